"""The one place a Chroma client is made, for the message memory and for read-repo alike.

``CHROMA_URL`` (or an explicit URL) names a team server, as ``host:port`` or
``http(s)://host:port``; without one, Chroma runs embedded in a folder. A bad URL is refused
with the same one line wherever it is read, before anything else happens. Clients are shared
within the process, keyed by their target. chromadb is imported only when a client is made.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from my_llm.errors import MyLLMError

__all__ = [
    "ENV_VAR",
    "ChromaServer",
    "ChromaURLError",
    "chroma_client",
    "chroma_server",
    "chroma_target",
    "parse_chroma_url",
]

ENV_VAR = "CHROMA_URL"
DEFAULT_PORT = 8000
_EXPECTED = "use host:port or http(s)://host:port, e.g. localhost:8000"

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


class ChromaURLError(MyLLMError):
    """A Chroma server URL that cannot be used; the message says which setting to fix."""


@dataclass(frozen=True)
class ChromaServer:
    """A Chroma server's address, whichever way it was spelled."""

    host: str
    port: int
    ssl: bool

    @property
    def url(self) -> str:
        """The canonical spelling, so ``host:8000`` and ``http://host:8000`` are one target."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.ssl else 'http'}://{host}:{self.port}"


def parse_chroma_url(value: str, source: str = ENV_VAR) -> ChromaServer:
    """``host[:port]`` or ``http(s)://host[:port]``; anything else is a one-line ChromaURLError.

    ``source`` names the setting in the message (``CHROMA_URL``, ``--chroma-url``).
    """
    text = value.strip()
    bad = ChromaURLError(f"bad {source} {value!r}: {_EXPECTED}")
    if not text or any(ch.isspace() for ch in text):
        raise bad
    parts = urlsplit(text if "://" in text else f"http://{text}")
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        raise bad from None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise bad  # a path or query would be silently dropped: the server would be another
    ssl = parts.scheme.lower() == "https"
    return ChromaServer(parts.hostname, port or (443 if ssl else DEFAULT_PORT), ssl)


def chroma_server(url: str | None = None, source: str | None = None) -> ChromaServer | None:
    """The server ``url`` names, else the one ``$CHROMA_URL`` names; None means embedded.

    An empty ``url`` ("") asks for the embedded store whatever the environment says.
    ``source`` names the setting in an error (default: ``CHROMA_URL``, or ``chroma_url``
    for a URL passed in).
    """
    if url is None:
        from my_llm import config

        found, where = config.lookup("chroma_url")
        url = "" if found is None else str(found)
        source = source or (ENV_VAR if where.startswith("$") else f"chroma_url in {where}")
    return parse_chroma_url(url, source or "chroma_url") if url.strip() else None


def chroma_target(folder: str | Path, url: str | None = None) -> str:
    """The server's canonical URL, or the embedded store's folder: also the cache key."""
    server = chroma_server(url)
    return server.url if server is not None else str(Path(folder).expanduser())


def chroma_client(folder: str | Path, url: str | None = None) -> Any:
    """A shared Chroma client: the server's when ``url`` (default ``$CHROMA_URL``) names one,
    else an embedded PersistentClient in ``folder`` (created if missing).

    A bad URL raises ChromaURLError before chromadb is imported; whatever chromadb raises (a
    server that does not answer, a folder it cannot use) is left to the caller to word.
    """
    server = chroma_server(url)
    folder = os.path.abspath(Path(folder).expanduser())  # a later chdir must not split the cache
    key = server.url if server is not None else folder
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _make_client(server, folder)
            _clients[key] = client
        return client


def _make_client(server: ChromaServer | None, folder: str) -> Any:
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if server is not None:
        return chromadb.HttpClient(
            host=server.host, port=server.port, ssl=server.ssl, settings=settings
        )
    Path(folder).mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=folder, settings=settings)
