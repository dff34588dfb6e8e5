"""What runs inside Ray's workers: a pair, the model it talks to, and a node's self-check.

Where the model lives is the spec's `placement`:

* ``node``: one `NodeModel` actor per node loads the model once and serves every pair on that
  node (`NodeChat` forwards each call to it), so a node never holds two copies. The default for
  the embedded model (``--model local``, no ``--base-url``): nothing else has to run anywhere.
* ``endpoint``: every pair calls one OpenAI-compatible server (``--base-url``: ``my-llm serve``,
  vLLM, llama.cpp, Ollama; or a paid API). Chosen whenever there is a URL or the model is remote.

Nothing here imports Ray at module level: the driver checks that Ray is installed first, and
the functions are wrapped with ``ray.remote`` where they are submitted.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict

from code_generation.evaluation.pairs import run_pair
from code_generation.evaluation.strategies import get_strategy
from code_generation.evaluation.tasks import EvalTask
from code_generation.sandbox.runner import run_tests
from code_generation.types import LoopSettings
from my_llm.errors import ModelError, MyLLMError
from my_llm.models import (
    describe_model,
    explain_error,
    get_chat_model,
    profile_of,
    resolve_model_spec,
)

ACTOR_PREFIX = "tdd-eval-model-"
ACTOR_WAIT = 180.0  # seconds a pair waits for its node's model actor (a node that joined mid-run)
CODE_PACKAGES = ("code_generation", "my_llm")
PROBE_MODULE = "def double(x):\n    return 2 * x\n"
PROBE_TESTS = ("import unittest\n\nfrom probe import double\n\n\nclass TestProbe(unittest.TestCase):\n"
               "    def test_double(self):\n        self.assertEqual(double(21), 42)\n")


@dataclass(frozen=True)
class ModelSpec:
    """How a worker gets its model: plain data, resolved on the driver so every node agrees."""

    spec: str
    base_url: str | None = None
    temperature: float = 0.2
    seed: int | None = None
    placement: str = "auto"  # node | endpoint | auto (endpoint when there is a URL or the model is remote)

    @classmethod
    def from_cli(cls, model: str | None, base_url: str | None, temperature: float, seed: int | None,
                 env: Mapping[str, str] | None = None) -> ModelSpec:
        """The driver's --model/--base-url and environment, fixed so a worker's own environment does not matter."""
        env = os.environ if env is None else env
        spec = resolve_model_spec(model, env)
        if not base_url:
            local = spec.partition(":")[0].lower() == "local"
            base_url = env.get("MY_LLM_BASE_URL" if local else "OPENAI_BASE_URL") or None
        return cls(spec, base_url, temperature, seed)

    @property
    def where(self) -> str:
        if self.placement in ("node", "endpoint"):
            return self.placement
        remote = self.spec.partition(":")[0].lower() != "local"
        return "endpoint" if self.base_url or remote else "node"

    def build(self) -> BaseChatModel:
        return get_chat_model(self.spec, base_url=self.base_url, temperature=self.temperature, seed=self.seed,
                              show_progress=False)


def is_embedded(chat: BaseChatModel) -> bool:
    """A model that runs in this process (llama.cpp), not a client of a server."""
    return "embedded" in chat._llm_type


# --------------------------------------------------------------------------- node placement


class NodeModel:
    """Owns the node's one loaded model; the pairs on the node call `generate` (a threaded actor)."""

    def __init__(self, spec: ModelSpec) -> None:
        self.chat = spec.build()
        load = getattr(self.chat, "load", None)
        if callable(load):
            load()  # load now: the driver waits for every node's model before the first pair

    def describe(self) -> dict[str, Any]:
        return {"label": describe_model(self.chat), "profile": profile_of(self.chat),
                "continues_final_message": bool(getattr(self.chat, "continues_final_message", False)),
                "host": socket.gethostname(), "pid": os.getpid()}

    def generate(self, messages: list[BaseMessage], stop: list[str] | None,
                 kwargs: dict[str, Any]) -> tuple[AIMessage | None, str | None, bool]:
        """(reply, None, _) or (None, what went wrong, whether it is the model's error as a ModelError)."""
        try:
            reply = self.chat.invoke(messages, stop=stop, **kwargs)
        except Exception as exc:  # handed back whole: an actor error would look like a lost node
            explained = explain_error(exc)
            return None, explained or f"{type(exc).__name__}: {exc}", explained is not None
        return reply if isinstance(reply, AIMessage) else AIMessage(content=str(reply.content)), None, False


class NodeChat(BaseChatModel):
    """A pair's view of its node's `NodeModel`: a LangChain chat model that forwards each call."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    actor: Any
    label: str = "ray node model"
    profile: Any = None  # the model's tier profile, so the loop drives it as it would in one process
    continues_final_message: bool = False

    @property
    def _llm_type(self) -> str:
        return "ray-node-model"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        import ray

        reply, error, explained = ray.get(self.actor.generate.remote(messages, stop, kwargs))
        if error is not None:
            raise (ModelError if explained else RuntimeError)(error)
        return ChatResult(generations=[ChatGeneration(message=reply)])


def actor_name(node_id: str) -> str:
    return f"{ACTOR_PREFIX}{node_id}"


@functools.cache
def _node_chat(name: str) -> NodeChat:
    """This node's model actor as a chat model (created by the driver; a new node's may take a moment)."""
    import ray

    deadline = time.monotonic() + ACTOR_WAIT
    while True:
        try:
            actor = ray.get_actor(name)
            break
        except ValueError:
            if time.monotonic() > deadline:
                raise MyLLMError(f"no model actor {name} on this node after {ACTOR_WAIT:.0f} s") from None
            time.sleep(0.5)
    info = ray.get(actor.describe.remote())
    return NodeChat(actor=actor, label=info["label"], profile=info["profile"],
                    continues_final_message=info["continues_final_message"])


@functools.cache
def _endpoint_chat(spec: ModelSpec) -> BaseChatModel:
    """One client per worker process (it is thread-safe and keeps its connections)."""
    return spec.build()


# --------------------------------------------------------------------------- one pair, one node


@dataclass(frozen=True)
class WorkerJob:
    """What every pair task of a run shares: the budget, the model and the label rows carry."""

    settings: LoopSettings
    model: ModelSpec
    label: str

    def chat(self) -> BaseChatModel:
        if self.model.where == "node":
            import ray

            return _node_chat(actor_name(ray.get_runtime_context().get_node_id()))
        return _endpoint_chat(self.model)


def pair_task(task: EvalTask, strategy: str, job: WorkerJob) -> dict[str, Any]:
    """A Ray task: one pair with the real engine and sandbox; its row and run file, written by the driver.

    A broken model or configuration comes back as ``{"fatal": line}`` (not raised, so Ray does
    not retry it); a worker that dies is re-run by Ray (``max_retries``)."""
    try:
        row, record = run_pair(task, strategy, get_strategy(strategy), job.chat(), replace(job.settings),
                               run_tests, job.label)
    except MyLLMError as exc:
        return {"fatal": " ".join(str(exc).split())}
    return {"row": row, "record": record}


def code_fingerprint(root: Path | None = None) -> str:
    """A hash of the harness's code, to refuse a node that would run other code than the driver."""
    root = root or Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for package in CODE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def node_report() -> dict[str, Any]:
    """A Ray task pinned to one node: its code, and whether the sandbox works there (and how)."""
    import ray

    result = run_tests(PROBE_MODULE, "probe", PROBE_TESTS, "test_probe.py")
    return {"node_id": ray.get_runtime_context().get_node_id(), "host": socket.gethostname(),
            "fingerprint": code_fingerprint(), "python": platform.python_version(), "ray": ray.__version__,
            "sandbox_ok": result.success, "sandbox": f"{result.status}: {result.message}"[:300],
            "isolation": list(result.isolation)}
