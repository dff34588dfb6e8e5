"""A loopback server that answers each request with exactly the bytes a test chose.

tests/fake_openai_server.py always speaks well-formed HTTP; a real server behind a proxy, or one
that crashes mid-reply, does not: a status line of another protocol, a body cut short of its
Content-Length, a chunked body that never ends properly, or the connection closed without a word.
Here a test gives a function from (method, path, body) to the raw response bytes.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Answer = Callable[[str, str, bytes], bytes]


def http_response(status: int, body: bytes, headers: dict[str, str] | None = None,
                  declared: int | None = None, reason: str = "X") -> bytes:
    """An HTTP/1.1 response; ``declared`` is the Content-Length it claims (the body's own by default)."""
    fields = {"Content-Type": "application/json", "Content-Length": str(len(body) if declared is None else declared),
              "Connection": "close", **(headers or {})}
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    return head.encode("latin-1") + body


def _handler(answer: Answer) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        timeout = 10

        def handle(self) -> None:
            request = self.rfile.readline(65536).decode("latin-1").split()
            length = 0
            while (line := self.rfile.readline(65536)) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip() or 0)
            body = self.rfile.read(length) if length else b""
            method, path = (request + ["", ""])[:2]
            self.wfile.write(answer(method, path, body))
            self.wfile.flush()

    return Handler


@contextmanager
def raw_server(answer: Answer) -> Iterator[str]:
    """Serve ``answer`` on a free loopback port; yields the base URL (``http://127.0.0.1:<port>/v1``)."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _handler(answer))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
