"""Ask an OpenAI-compatible server what it is, so the tools drive it the right way.

Several candidates a round are free on a server of one's own and cost money on a paid API; the
reply prefill needs a server that continues a final assistant message (llama.cpp's does). The
server says which it is: ``GET /v1/models`` names its models and who made them (``owned_by``:
``llamacpp``, ``vllm``, ``library`` for Ollama, ``openai``/``system`` for OpenAI), and llama.cpp's
``GET /props`` gives the model file and its slots, from which the tier's profile follows.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import urlsplit

import httpx

from my_llm.models.model_tiers import (
    LOCAL_FILE_PROFILE,
    REMOTE_PROFILE,
    ModelProfile,
    tier_for_file,
)

PROBE_SECONDS = 3.0
_KINDS = {"llamacpp": "llama.cpp", "vllm": "vllm", "library": "ollama", "ollama": "ollama",
          "openai": "openai", "system": "openai", "openai-internal": "openai"}


@dataclass(frozen=True)
class ServerInfo:
    """What a server said about itself (reachable False: it did not answer at all)."""

    base_url: str
    reachable: bool
    kind: str = "unknown"  # llama.cpp, vllm, ollama, openai or unknown
    models: tuple[str, ...] = ()
    model_path: str | None = None  # llama.cpp: the GGUF it serves
    slots: int | None = None  # llama.cpp: requests it runs at once

    @property
    def local(self) -> bool:
        """On this machine or a private network: its samples cost nothing."""
        host = urlsplit(self.base_url).hostname or ""
        if host == "localhost" or host.endswith(".localhost"):
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return address.is_loopback or address.is_private

    @property
    def continues_final_message(self) -> bool:
        """llama.cpp's server continues a final assistant message (checked in tests/test_serve_e2e.py)."""
        return self.kind == "llama.cpp"

    @property
    def profile(self) -> ModelProfile:
        """The tier's profile for a tier's file; two candidates on other servers of one's own."""
        if self.kind == "llama.cpp" and self.model_path:
            tier = tier_for_file(PurePath(self.model_path).name)
            if tier is not None:
                return tier.profile
        if self.reachable and self.kind != "openai" and (self.kind == "llama.cpp" or self.local):
            return LOCAL_FILE_PROFILE
        return REMOTE_PROFILE


def root_url(base_url: str) -> str:
    """The server's root: the base URL without its trailing ``/v1``."""
    base = base_url.rstrip("/")
    return base[: -len("/v1")] if base.endswith("/v1") else base


def _get_json(client: httpx.Client, url: str) -> object | None:
    try:
        response = client.get(url)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _probe(base_url: str, api_key: str | None, timeout: float) -> ServerInfo:
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    with httpx.Client(timeout=timeout, headers=headers) as client:
        try:
            response = client.get(base_url.rstrip("/") + "/models")
        except httpx.HTTPError:
            return ServerInfo(base_url, reachable=False)
        data: object = None
        if response.status_code == 200:
            try:
                data = response.json()
            except ValueError:
                data = None
        entries = data.get("data") if isinstance(data, dict) else None
        entries = [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []
        models = tuple(str(e["id"]) for e in entries if e.get("id"))
        owners = {_KINDS.get(str(e.get("owned_by", "")).lower(), "unknown") for e in entries}
        kind = owners.pop() if len(owners) == 1 else "unknown"
        props = _get_json(client, root_url(base_url) + "/props") if kind in ("llama.cpp", "unknown") else None
    if isinstance(props, dict) and "default_generation_settings" in props:
        slots, path = props.get("total_slots"), props.get("model_path")  # JSON of any type: kept when typed right
        return ServerInfo(base_url, True, "llama.cpp", models, path if isinstance(path, str) and path else None,
                          slots if type(slots) is int else None)
    return ServerInfo(base_url, True, kind, models)


_CACHE: dict[tuple[str, str | None], ServerInfo] = {}
_LOCK = threading.Lock()


def probe_server(base_url: str, api_key: str | None = None, timeout: float = PROBE_SECONDS) -> ServerInfo:
    """What the server at ``base_url`` is; asked once per process (an unreachable one again later)."""
    key = (base_url.rstrip("/"), api_key)
    with _LOCK:
        known = _CACHE.get(key)
    if known is not None:
        return known
    info = _probe(base_url, api_key, timeout)
    if info.reachable:
        with _LOCK:
            _CACHE[key] = info
    return info
