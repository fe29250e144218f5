"""A TCP port on 127.0.0.1 that forwards each connection to another address: for tests of what
reads a local address when the stack's server is elsewhere (a compose service, another host)."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def _pump(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    # The other direction sees the end too, so both threads finish.
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


@contextmanager
def loopback_forward(host: str, port: int, listen_port: int = 0) -> Iterator[int]:
    """A port on 127.0.0.1 (`listen_port`, else a free one) whose connections reach host:port,
    until the block ends; the port."""
    listener = socket.create_server(("127.0.0.1", listen_port))
    open_sockets: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):  # the listener closed: the block ended
            while True:
                client, _ = listener.accept()
                upstream = socket.create_connection((host, port), timeout=10)
                upstream.settimeout(None)
                open_sockets.extend((client, upstream))
                for source, target in ((client, upstream), (upstream, client)):
                    threading.Thread(target=_pump, args=(source, target), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        for sock in open_sockets:
            sock.close()
        acceptor.join(timeout=5)
