"""Reads COUNT messages from QUEUE with pika and decodes each with the CloudEvents
Python SDK's RabbitMQ binding, as binary or structured mode (MODE), printing one JSON
line per event: the attributes and data the SDK saw.

usage: decode_with_sdk.py AMQP_URL QUEUE COUNT MODE
"""

import json
import sys
import time

import pika
from cloudevents.core.bindings import rabbitmq


def main() -> None:
    url, queue, count, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    decode = {
        "binary": rabbitmq.from_binary_event,
        "structured": rabbitmq.from_structured_event,
        "auto": rabbitmq.from_rabbitmq_event,
    }[mode]
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    seen = 0
    deadline = time.monotonic() + 30
    while seen < count:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            if time.monotonic() > deadline:
                sys.exit(f"only {seen} of {count} messages arrived in {queue}")
            time.sleep(0.05)
            continue
        headers = {
            name: value.decode() if isinstance(value, bytes) else value
            for name, value in (properties.headers or {}).items()
        }
        message = rabbitmq.RabbitMQMessage(
            headers=headers, content_type=properties.content_type, body=body
        )
        event = decode(message)
        attributes = event.get_attributes()
        print(
            json.dumps(
                {
                    "id": event.get_id(),
                    "type": event.get_type(),
                    "source": event.get_source(),
                    "subject": event.get_subject(),
                    "specversion": event.get_specversion(),
                    "datacontenttype": event.get_datacontenttype(),
                    "time": event.get_time().isoformat() if event.get_time() else None,
                    "extensions": {
                        name: value
                        for name, value in attributes.items()
                        if name
                        not in (
                            "id",
                            "type",
                            "source",
                            "subject",
                            "specversion",
                            "datacontenttype",
                            "time",
                        )
                    },
                    "data": event.get_data(),
                }
            ),
            flush=True,
        )
        seen += 1
    connection.close()


if __name__ == "__main__":
    main()
