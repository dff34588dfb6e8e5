"""The harness on Ray: each (task, strategy) pair a Ray task, on a local instance or a cluster.

    python -m code_generation.evaluation --tasks humaneval --out eval/he --executor ray [--ray-address HEAD:6379]

Without an address a local Ray instance starts on 127.0.0.1 with ``--jobs`` CPUs (pairs at
once) and stops with the run; with one, the run joins that cluster and each node runs as many
pairs at once as the CPUs it was started with (``ray start --num-cpus``).

Exactly once: only this driver writes results. A pair task returns its row and run file; the
driver writes them when the result arrives, once per (task, strategy) (a set of keys written,
seeded from ``results.jsonl`` so a rerun skips them). A worker killed mid-pair is run again by Ray
(``max_retries``), and only the run that returns counts; a pair whose workers died every time
gets an error row, which a rerun runs again.

Before the first pair every node is checked: the same code as the driver (a hash of the
project's Python files) and a sandboxed test run that passes, whose protections are shown.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import Any

from rich.console import Console
from rich.markup import escape

from code_generation.evaluation.pairs import Pair, Recorder, error_row
from code_generation.evaluation.ray_worker import (
    ModelSpec,
    NodeModel,
    WorkerJob,
    actor_name,
    code_fingerprint,
    is_embedded,
    node_report,
    pair_task,
)
from code_generation.types import LoopSettings
from my_llm.errors import MyLLMError
from my_llm.models import describe_model

LOOPBACK_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # "0": Ray binds to 127.0.0.1 instead of the machine's address
LOCAL_OBJECT_STORE = 256 * 2**20  # bytes: rows and run files are small
PROBE_TIMEOUT = 180.0  # seconds for a node's check (a cold sandbox, a busy node)
NODE_REFRESH = 5.0  # seconds between looks for nodes that joined or left
ACTOR_CONCURRENCY = 64  # calls the node's model actor takes at once (the model queues them on its slots)


def _loopback(address: str | None) -> bool:
    if address is None:
        return True
    host = address.removeprefix("ray://").rsplit(":", 1)[0].strip("[]")
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_ray(address: str | None = None) -> ModuleType:
    """Ray, or one line saying how to install it. A local instance is kept on the loopback address."""
    if _loopback(address):
        os.environ.setdefault(LOOPBACK_ENV, "0")  # read when Ray is first imported
    try:
        import ray
    except ImportError as exc:
        raise MyLLMError("--executor ray needs Ray, an optional extra: pip install '.[ray]' "
                         "(or pip install 'ray>=2.40')") from exc
    return ray


@dataclass
class RayOptions:
    address: str | None = None  # None: a local instance on 127.0.0.1
    cpus: int = 1  # the local instance's CPUs, i.e. pairs at once (--jobs)
    max_retries: int = 3  # runs of a pair whose worker died, after the first


class RayExecutor:
    """Connects, checks every node, places the model, then runs pairs as Ray tasks (`PairExecutor`)."""

    def __init__(self, model: ModelSpec, options: RayOptions | None = None, console: Console | None = None) -> None:
        self.model = model
        self.options = options or RayOptions()
        self.console = console
        self.model_label = ""
        self.ray: ModuleType = require_ray(self.options.address)
        self._owned = False  # this executor started Ray, so it stops it
        self._actors: dict[str, Any] = {}  # node id -> its model actor (node placement)
        self._nodes: dict[str, dict[str, Any]] = {}  # node id -> ray.nodes() entry, checked
        self._looked = 0.0

    # ------------------------------------------------------------------ set-up and tear-down

    def __enter__(self) -> RayExecutor:
        self._connect()
        try:
            self._refresh(force=True)
            self._place_model()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _connect(self) -> None:
        ray, address = self.ray, self.options.address
        if ray.is_initialized():
            return  # the caller's Ray (a test's, a notebook's): used as it is, left running
        common: dict[str, Any] = {"log_to_driver": False, "logging_level": "warning"}
        try:
            if address:
                ray.init(address=address, **common)
            else:
                ray.init(address="local", num_cpus=self.options.cpus, include_dashboard=False,
                         _node_ip_address="127.0.0.1", object_store_memory=LOCAL_OBJECT_STORE, **common)
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError ... from Ray
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            detail = " ".join(str(exc).split())[:200]
            raise MyLLMError(f"cannot start or reach {where}: {detail}") from exc
        self._owned = True

    def close(self) -> None:
        """Stop the model actors, and Ray itself when this executor started it."""
        ray = self.ray
        if not ray.is_initialized():
            return
        for actor in self._actors.values():
            try:
                ray.kill(actor)
            except Exception:  # already gone with its node
                pass
        self._actors.clear()
        if self._owned:
            ray.shutdown()
            self._owned = False

    # ------------------------------------------------------------------ nodes and the model

    def _alive(self) -> dict[str, dict[str, Any]]:
        return {n["NodeID"]: n for n in self.ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU")}

    def _pinned(self, function: Any, node_id: str, **options: Any) -> Any:
        """`function` (or an actor class) as a Ray task that runs on that node only, reserving no CPU."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        return self.ray.remote(function).options(
            num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False), **options)

    def _refresh(self, force: bool = False) -> None:
        """Check nodes that joined (code, sandbox), give them a model actor; forget nodes that left."""
        if not force and time.monotonic() - self._looked < NODE_REFRESH:
            return
        self._looked = time.monotonic()
        alive = self._alive()
        if not alive:
            raise MyLLMError("the Ray cluster has no node with CPUs")
        new = [node_id for node_id in alive if node_id not in self._nodes]
        for node_id in set(self._nodes) - set(alive):
            del self._nodes[node_id]
            self._actors.pop(node_id, None)
        if new:
            self._check(new)
            for node_id in new:
                self._nodes[node_id] = alive[node_id]
                if self.model.where == "node":
                    self._actors[node_id] = self._start_actor(node_id)

    def _check(self, node_ids: Sequence[str]) -> None:
        """Each new node must run the driver's code and pass a sandboxed test."""
        refs = [self._pinned(node_report, node_id).remote() for node_id in node_ids]
        try:
            reports = self.ray.get(refs, timeout=PROBE_TIMEOUT)
        except self.ray.exceptions.GetTimeoutError as exc:
            raise MyLLMError(f"a Ray node did not answer its check within {PROBE_TIMEOUT:.0f} s") from exc
        except self.ray.exceptions.RayError as exc:  # e.g. the project is not installed there
            detail = " ".join(str(exc).split())[-300:]
            raise MyLLMError(f"a Ray node failed its check (is the project installed there?): {detail}") from exc
        mine = code_fingerprint()
        for report in reports:
            where = f"node {report['host']} ({report['node_id'][:8]})"
            if report["fingerprint"] != mine:
                raise MyLLMError(f"{where} runs other code than this driver (code hash {report['fingerprint']}, "
                                 f"here {mine}): install the same commit on every node")
            if not report["sandbox_ok"]:
                raise MyLLMError(f"the sandbox does not work on {where}: {report['sandbox']}")
            if self.console is not None:
                missing = [n for n in report["isolation"] if "NOT " in n or "NO " in n]
                how = "; ".join(missing) if missing else "namespaces, limits and signed report as on one machine"
                self.console.print(f"[dim]{escape(where)}: Python {report['python']}, Ray {report['ray']}, "
                                   f"sandbox ok ({escape(how)})[/dim]")

    def _start_actor(self, node_id: str) -> Any:
        actor = self._pinned(NodeModel, node_id, name=actor_name(node_id), max_concurrency=ACTOR_CONCURRENCY,
                             max_restarts=-1, max_task_retries=-1)
        return actor.remote(self.model)

    def _place_model(self) -> None:
        """Endpoint: the driver builds the client once for its label (never a local copy). Node: wait for every copy."""
        if self.model.where == "endpoint":
            chat = self.model.build()
            if is_embedded(chat):
                raise MyLLMError(f"{self.model.base_url} does not serve {self.model.spec}: start `my-llm serve "
                                 f"--model {self.model.spec}` there, or leave out --base-url to load one copy per node")
            self.model_label = describe_model(chat)
            return
        if self.console is not None:
            self.console.print(f"[dim]loading {self.model.spec} once on each of {len(self._actors)} node(s)[/dim]")
        try:
            infos = self.ray.get([a.describe.remote() for a in self._actors.values()])
        except self.ray.exceptions.RayError as exc:
            detail = " ".join(str(exc).split())[-300:]
            raise MyLLMError(f"a node could not load the model {self.model.spec}: {detail}") from exc
        labels = sorted({i["label"].split(" (")[0].rsplit("/", 1)[-1] for i in infos})
        if len(labels) > 1:
            raise MyLLMError(f"the nodes loaded different models ({', '.join(labels)}): give every node the same files")
        self.model_label = min(i["label"] for i in infos)  # the same whichever node answers first

    # ------------------------------------------------------------------ the run

    def _capacity(self) -> int:
        return max(1, int(sum(n["Resources"].get("CPU", 0) for n in self._nodes.values())))

    def _status(self, in_flight: int) -> str:
        cpus = self._capacity()
        where = "a model per node" if self.model.where == "node" else f"endpoint {self.model.base_url or 'API'}"
        return f"ray: {len(self._nodes)} node(s), {cpus} CPU(s) · {in_flight} pair(s) in flight · {where}"

    def run(self, pending: Sequence[Pair], settings: LoopSettings, model: str, record: Recorder,
            status: Callable[[str], None]) -> None:
        """Submit as many pairs as the cluster has CPUs, hand each result to `record` as it arrives."""
        ray = self.ray
        job = WorkerJob(settings, self.model, model)
        remote = ray.remote(pair_task).options(num_cpus=1, max_retries=self.options.max_retries,
                                               retry_exceptions=False)
        queue: deque[Pair] = deque(pending)
        in_flight: dict[Any, Pair] = {}
        try:
            while queue or in_flight:
                self._refresh()
                while queue and len(in_flight) < self._capacity():
                    task, strategy = queue.popleft()
                    in_flight[remote.remote(task, strategy, job)] = (task, strategy)
                status(self._status(len(in_flight)))
                done, _ = ray.wait(list(in_flight), num_returns=1, timeout=1.0)
                for ref in done:
                    self._hand_in(ref, in_flight.pop(ref), model, record)
        except BaseException:
            for ref in in_flight:
                ray.cancel(ref, force=True)
            raise
        status(self._status(0))

    def _hand_in(self, ref: Any, pair: Pair, model: str, record: Recorder) -> None:
        task, strategy = pair
        try:
            result = self.ray.get(ref)
        except self.ray.exceptions.RayError as exc:  # its workers died more often than max_retries allows
            row = error_row(task.id, strategy, 0.0, f"ray: {type(exc).__name__}: {' '.join(str(exc).split())}",
                            model)
            result = {"row": row, "record": dict(row)}
        if "fatal" in result:
            raise MyLLMError(result["fatal"])
        record(result["row"], result["record"])
