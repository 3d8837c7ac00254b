"""Exit 0 when a Kafka broker answers a metadata request: kafka_ready.py BOOTSTRAP [SECONDS].

An open port is not enough (the broker may still be recovering), so after the TCP check
this asks for the cluster description and wants at least one unfenced broker back.
"""

import socket
import sys
import time

from kafka import KafkaAdminClient
from kafka.errors import KafkaError


def port_open(bootstrap: str) -> bool:
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def answers(bootstrap: str) -> bool:
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
    except (KafkaError, OSError, ValueError):
        return False
    try:
        brokers = admin.describe_cluster().get("brokers") or []
        return any(not b.get("is_fenced") for b in brokers)
    except (KafkaError, OSError, ValueError):
        return False
    finally:
        admin.close()


def main() -> int:
    bootstrap = sys.argv[1]
    deadline = time.monotonic() + float(sys.argv[2] if len(sys.argv) > 2 else 30)
    while True:
        if port_open(bootstrap) and answers(bootstrap):
            return 0
        if time.monotonic() >= deadline:
            return 1
        time.sleep(0.3)


if __name__ == "__main__":
    sys.exit(main())
