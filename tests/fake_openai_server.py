"""A small real HTTP server that answers like an OpenAI-compatible one, or fails like real ones do.

Each test gives it a handler: a function from the request (path, JSON body, its number) to an
answer (status, JSON body, headers), or `CLOSE` to drop the connection without a word. Requests
are recorded, so a test can check how many tries a client made and what it sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CLOSE = "close"


@dataclass
class Seen:
    method: str
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


Answer = tuple[int, Any, dict[str, str]] | str
Handler = Callable[[Seen, int], Answer]


@dataclass
class FakeServer:
    handler: Handler
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def chat_requests(self) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith("/chat/completions")]


def completion(content: str = "def f():\n    return 1\n", prompt_tokens: int | None = 12,
               completion_tokens: int = 7, **extra: Any) -> dict[str, Any]:
    """A chat completion as OpenAI shapes it (``prompt_tokens=None``: no usage at all)."""
    body: dict[str, Any] = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        **extra,
    }
    if prompt_tokens is not None:
        body["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                         "total_tokens": prompt_tokens + completion_tokens}
    return body


def _make_handler(state: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else {}
            except ValueError:
                body = {"raw": raw.decode(errors="replace")}
            seen = Seen(method, self.path, body, {k.lower(): v for k, v in self.headers.items()})
            state.seen.append(seen)
            answer = state.handler(seen, len(state.chat_requests()))
            if answer == CLOSE:
                self.close_connection = True
                self.connection.close()
                return
            status, payload, headers = answer  # type: ignore[misc]
            data = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

    return Handler


@contextmanager
def fake_server(handler: Handler) -> Iterator[FakeServer]:
    """Serve ``handler`` on a free loopback port for the duration of the block."""
    state = FakeServer(handler)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
