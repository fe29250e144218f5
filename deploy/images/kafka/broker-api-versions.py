#!/usr/bin/python3
"""Whether a Kafka broker answers: one ApiVersions request (the first thing every client sends),
exit 0 on a reply without error. The image's health check, where apache/kafka runs its tools."""

import argparse
import socket
import struct
import sys

API_VERSIONS = 18


def answers(host: str, port: int, timeout: float) -> bool:
    client_id = b"healthcheck"
    # Request header v1 (api key, version 0, correlation id, client id); the v0 body is empty.
    request = struct.pack(">hhih", API_VERSIONS, 0, 1, len(client_id)) + client_id
    with socket.create_connection((host, port), timeout=timeout) as conn:
        conn.sendall(struct.pack(">i", len(request)) + request)
        reply = b""
        while len(reply) < 10:  # size, correlation id, error code
            chunk = conn.recv(4096)
            if not chunk:
                return False
            reply += chunk
    _size, correlation_id, error_code = struct.unpack(">iih", reply[:10])
    return correlation_id == 1 and error_code == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap-server", default="localhost:9092")
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args()
    host, _, port = args.bootstrap_server.rpartition(":")
    try:
        ok = answers(host or "localhost", int(port), args.timeout)
    except OSError as exc:
        print(f"{args.bootstrap_server}: {exc}", file=sys.stderr)
        return 1
    print(f"{args.bootstrap_server}: {'answers' if ok else 'replied with an error'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
