"""Starvation figures for a running `cloudrec emulator`.

Usage: python3 starvation.py PID PORT [WAIT_SECS]
Opens 200 slowloris connections and counts those closed after WAIT_SECS, sends 10,000
requests with 60 KB paths and reports the emulator's RSS and its request log, then opens
18,000 idle sockets and checks the emulator still answers. See docs/benchmarks.md.
"""
import socket, sys, time, json, http.client

pid, port = int(sys.argv[1]), int(sys.argv[2])
wait = float(sys.argv[3]) if len(sys.argv) > 3 else 15.0

def rss_mb():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
def fds():
    import os
    return len(os.listdir(f"/proc/{pid}/fd"))

# 1. 200 slowloris connections.
slow = []
for _ in range(200):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /v1/ncs/ip HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    slow.append(s)
time.sleep(wait)
closed = 0
for s in slow:
    s.settimeout(0.5)
    try:
        closed += s.recv(1) == b""
    except ConnectionResetError:
        closed += 1
    except socket.timeout:
        pass
    s.close()
print(f"slowloris: {closed}/200 closed after {wait:.0f} s")

# 2. 10,000 unauthenticated requests with 60 KB paths.
print(f"rss before: {rss_mb():.1f} MB")
path = "/" + "a" * 60_000
conn = http.client.HTTPConnection("127.0.0.1", port)
start = time.time()
for _ in range(10_000):
    conn.request("GET", path)
    conn.getresponse().read()
print(f"10,000 x 60 KB paths in {time.time() - start:.1f} s; rss {rss_mb():.1f} MB")
conn.request("GET", "/_emulator/requests")
body = conn.getresponse().read()
print(f"GET /_emulator/requests: {len(body) / 1e6:.2f} MB, {len(json.loads(body))} entries; rss {rss_mb():.1f} MB")
conn.request("GET", "/_emulator/requests/stats")
print("stats:", conn.getresponse().read().decode())
conn.close()

# 3. 18,000 idle sockets.
idle = []
refused = 0
for _ in range(18_000):
    try:
        idle.append(socket.create_connection(("127.0.0.1", port)))
    except OSError:
        refused += 1
time.sleep(2)
print(f"idle sockets opened: {len(idle)} (connect errors {refused}); emulator fds {fds()}")
c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
t = time.time()
try:
    c.request("GET", "/_emulator/connections")
    r = c.getresponse()
    print(f"request while flooded: {r.status} in {time.time() - t:.2f} s:", r.read().decode())
except Exception as e:
    print("request while flooded failed:", e)
for s in idle:
    s.close()
