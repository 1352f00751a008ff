#!/usr/bin/env python3
"""Record a mix-mode channel through `cloudrec serve`, with the standard library only.

Starts a recording, waits until it runs, prints it, stops it, waits for its end and
prints its files and upload status. Exits 0 when it stopped, 1 on any other end or
error, 2 on a wrong command line.

    cloudrec serve --emulator &
    python3 examples/python/record.py --api http://127.0.0.1:8480

docs/api.md describes the API.
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid

TERMINAL = ("stopped", "stopped_no_data", "failed", "lost")


class ApiError(Exception):
    """An error answer of the API (application/problem+json), or no answer at all."""

    def __init__(self, status, title, detail=None, field=None):
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field

    def line(self):
        parts = [self.title if self.status is None else f"{self.status} {self.title}"]
        if self.detail:
            parts.append(self.detail)
        if self.field:
            parts.append(f"field: {self.field}")
        return "error: " + ": ".join(parts)


class Api:
    def __init__(self, base, token=None, timeout=30):
        self.base = base.rstrip("/")
        self.token = token
        self.timeout = timeout

    def call(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", "Bearer " + self.token)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                problem = json.loads(text)
            except ValueError:
                problem = {"detail": text.strip() or None}
            raise ApiError(
                problem.get("status", error.code),
                problem.get("title", error.reason),
                problem.get("detail"),
                problem.get("field"),
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ApiError(None, f"cannot reach {self.base}", str(reason)) from None

    def wait(self, recording_id, done, timeout, poll=0.5):
        """Polls the recording until done(state) holds; answers it."""
        deadline = time.monotonic() + timeout
        while True:
            recording = self.call("GET", f"/v1/recordings/{recording_id}")
            if done(recording["state"]):
                return recording
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"recording {recording_id} is still {recording['state']} after {timeout:g} s"
                )
            time.sleep(poll)


def mix_request(args):
    return {
        "mode": "mix",
        "cname": args.cname,
        "uid": str(args.uid),
        "clientRequest": {
            "recordingConfig": {"channelType": 0},
            "storageConfig": {
                "vendor": args.vendor,
                "region": args.region,
                "bucket": args.bucket,
                "accessKey": args.access_key,
                "secretKey": args.secret_key,
            },
        },
    }


def show(recording):
    keys = ("id", "state", "cname", "uid", "resourceId", "sid", "reason")
    print(json.dumps({key: recording.get(key) for key in keys}, indent=2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default="http://127.0.0.1:8480", help="base URL of cloudrec serve")
    parser.add_argument("--token", help="the service's API token (sent as Authorization: Bearer)")
    parser.add_argument("--cname", default="python-room", help="the channel to record")
    parser.add_argument("--uid", type=int, default=527841, help="the recorder bot's uid")
    parser.add_argument("--bucket", default="my-bucket")
    parser.add_argument("--vendor", type=int, default=1)
    parser.add_argument("--region", type=int, default=0)
    parser.add_argument("--access-key", default="AK")
    parser.add_argument("--secret-key", default="SK")
    parser.add_argument("--record-for", type=float, default=2.0, help="seconds to record once running")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each state")
    args = parser.parse_args()

    api = Api(args.api, args.token)
    try:
        # The key makes the creation safe to send again after a lost answer.
        key = str(uuid.uuid4())
        recording = api.call("POST", "/v1/recordings", mix_request(args), {"Idempotency-Key": key})
        recording_id = recording["id"]
        print(f"created {recording_id} ({recording['state']})")

        recording = api.wait(
            recording_id, lambda state: state == "running" or state in TERMINAL, args.timeout
        )
        if recording["state"] != "running":
            print(
                f"error: the recording ended as {recording['state']} before it ran: "
                f"{recording.get('reason') or 'no reason given'}",
                file=sys.stderr,
            )
            return 1
        print("running:")
        show(recording)

        time.sleep(args.record_for)
        api.call("POST", f"/v1/recordings/{recording_id}/stop")
        print("stopping")
        recording = api.wait(recording_id, lambda state: state in TERMINAL, args.timeout)
    except ApiError as error:
        print(error.line(), file=sys.stderr)
        return 1
    except TimeoutError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    state = recording["state"]
    print(f"ended: {state}")
    if recording.get("reason"):
        print(f"reason: {recording['reason']}")
    print(f"files: {', '.join(recording.get('files') or []) or '(none named)'}")
    print(f"uploadingStatus: {recording.get('uploadingStatus')}")
    return 0 if state == "stopped" else 1


if __name__ == "__main__":
    sys.exit(main())
