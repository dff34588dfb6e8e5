"""The evaluation harness on Ray: a local Ray instance on 127.0.0.1, started here, the real sandbox,
and a fake OpenAI-compatible server every worker calls (the endpoint placement, for real).

One worker is SIGKILLed while its pair waits for the model: Ray runs the pair again, and its row
is written once. A rerun through the CLI, joining the same instance by its address, writes
nothing. The node placement (one model actor per node) is checked by which process makes the
model calls. Bad input (Ray missing, --ray-address without --executor ray) is one line, exit 2,
before any model is built.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from code_generation.evaluation import evaluate as evaluate_module
from code_generation.evaluation.evaluate import EvalSettings, evaluate, main
from code_generation.evaluation.pairs import Pair, Recorder, run_pair
from code_generation.evaluation.strategies import get_strategy
from code_generation.evaluation.tasks import load_tasks
from code_generation.sandbox.runner import run_tests
from code_generation.types import LoopSettings
from tests.conftest import missing
from tests.fake_openai_server import completion

ROOT = Path(__file__).resolve().parent.parent
TASKS = 12
RIGHT_AT_ONCE = range(0, 6)  # t00-t05: the first reply is right
RIGHT_AFTER_FEEDBACK = range(6, 9)  # t06-t08: right once the request shows the wrong attempt
VICTIM = "t03"  # its first model call blocks until the worker making it has been killed
SETTINGS = EvalSettings(max_iterations=2, timeout=30.0)


def make_tasks(root: Path) -> Path:
    for n in range(TASKS):
        folder = root / f"t{n:02d}"
        folder.mkdir(parents=True)
        (folder / "prompt.txt").write_text(f"Write f{n:02d}() returning {n}.\n")
        (folder / f"test_mod{n:02d}.py").write_text(
            f"import unittest\n\nfrom mod{n:02d} import f{n:02d}\n\n\nclass TestIt(unittest.TestCase):\n"
            f"    def test_it(self):\n        self.assertEqual(f{n:02d}(), {n})\n")
    return root


def reply_for(messages: list[dict[str, Any]]) -> tuple[str, str, int]:
    """(task, reply, prompt tokens): the request alone decides, so a pair run again gets the same replies."""
    text = "\n".join(str(m.get("content", "")) for m in messages)
    n = int(re.search(r"f(\d\d)\(\)", text).group(1))  # type: ignore[union-attr]
    wrong = f"```python\ndef f{n:02d}():\n    return {n + 100}\n```"
    right = f"```python\ndef f{n:02d}():\n    return {n}\n```"
    shown_wrong = f"return {n + 100}" in text
    good = n in RIGHT_AT_ONCE or (n in RIGHT_AFTER_FEEDBACK and shown_wrong)
    return f"t{n:02d}", right if good else wrong, len(text) // 3  # about what a tokenizer counts


# --------------------------------------------------------------------------- who is calling


def pid_of_client(port: int, server_port: int) -> int | None:
    """The process holding the client end of a loopback TCP connection (from /proc)."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
            if int(local, 16) == port and int(remote, 16) == server_port:
                inode = fields[9]
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) == target for fd in (proc / "fd").iterdir()):
                return int(proc.name)
        except OSError:
            continue
    return None


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


@dataclass
class Call:
    task: str
    pid: int | None
    title: str


@dataclass
class FakeModel:
    """A fake OpenAI-compatible server that knows which process made each chat call."""

    port: int = 0
    calls: list[Call] = field(default_factory=list)
    block: str | None = None  # the task whose first call waits for `released`
    blocked: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    victim: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def chat(self, body: dict[str, Any], client_port: int) -> dict[str, Any]:
        task, reply, tokens = reply_for(body.get("messages", []))
        pid = pid_of_client(client_port, self.port)
        with self.lock:
            first = not any(c.task == task for c in self.calls)
            self.calls.append(Call(task, pid, cmdline(pid) if pid else ""))
        if task == self.block and first:
            self.victim = pid
            self.blocked.set()
            self.released.wait(60)
        return completion(reply, prompt_tokens=tokens)


def _handler(model: FakeModel) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the caller was killed while it waited
                self.close_connection = True

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path.endswith("/models"):
                self._answer(200, {"object": "list", "data": [{"id": "fake", "owned_by": "vllm"}]})
            else:
                self._answer(404, {"error": "not here"})

        def do_POST(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            self._answer(200, model.chat(body, self.client_address[1]))

    return Handler


@pytest.fixture
def fake_model() -> Iterator[FakeModel]:
    model = FakeModel()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(model))
    httpd.daemon_threads = True
    model.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield model
    model.released.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def ray_instance() -> Iterator[str]:
    """A local Ray instance on 127.0.0.1 with 2 CPUs for this module; its GCS address."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # Ray binds to 127.0.0.1, not the host's address
    try:
        import ray
    except ImportError:
        missing("ray is not installed: pip install '.[ray]'")
        raise
    context = ray.init(address="local", num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
                       object_store_memory=256 * 2**20, log_to_driver=False, logging_level="warning")
    try:
        assert context.address_info["node_ip_address"] == "127.0.0.1"
        yield context.address_info["gcs_address"]
    finally:
        ray.shutdown()


def rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


# --------------------------------------------------------------------------- the run


def test_killed_worker_row_once_and_rerun_writes_nothing(ray_instance: str, fake_model: FakeModel, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    folder, out = make_tasks(tmp_path / "tasks"), tmp_path / "out"
    fake_model.block = VICTIM
    killed: dict[str, Any] = {}

    def kill_the_victim() -> None:
        if fake_model.blocked.wait(120) and fake_model.victim:
            killed["title"] = cmdline(fake_model.victim)
            os.kill(fake_model.victim, signal.SIGKILL)
            killed["pid"] = fake_model.victim
        fake_model.released.set()

    killer = threading.Thread(target=kill_the_victim, daemon=True)
    killer.start()
    args = ["--tasks", str(folder), "--strategies", "single,loop", "--out", str(out), "--max-iterations", "2",
            "--model", "openai:fake", "--base-url", fake_model.base_url, "--executor", "ray"]
    assert main(args) == 0
    killer.join(10)
    err = capsys.readouterr().err
    assert killed["title"].startswith("ray::pair_task"), killed  # a Ray worker, in the middle of its pair

    written = rows(out)
    keys = [(r["task"], r["strategy"]) for r in written]
    assert sorted(keys) == sorted((f"t{n:02d}", s) for n in range(TASKS) for s in ("single", "loop"))
    by_pair = {(r["task"], r["strategy"]): r for r in written}
    assert [t for (t, s), r in sorted(by_pair.items()) if s == "single" and r["solved"]] == [
        f"t{n:02d}" for n in RIGHT_AT_ONCE]
    assert [t for (t, s), r in sorted(by_pair.items()) if s == "loop" and r["solved"]] == [
        f"t{n:02d}" for n in [*RIGHT_AT_ONCE, *RIGHT_AFTER_FEEDBACK]]
    assert by_pair[("t07", "loop")]["iterations"] == 2 and by_pair[(VICTIM, "loop")]["iterations"] == 1
    assert not any(r.get("error") for r in written)
    assert {r["commit"] for r in written} == {evaluate_module.code_commit()}
    assert json.loads((out / "runs" / "loop" / "t07.json").read_text())["attempts"][1]["success"] is True

    victim_calls = [c for c in fake_model.calls if c.task == VICTIM]
    assert victim_calls[0].pid == killed["pid"] and len(victim_calls) == 3  # killed, run again, other strategy
    assert killed["pid"] not in {c.pid for c in victim_calls[1:]}
    assert all(c.title.startswith("ray::") for c in fake_model.calls)  # every call from a Ray worker
    assert "1 node(s)" in err and "in flight" in err and "sandbox ok" in err

    before, calls = (out / "results.jsonl").read_bytes(), len(fake_model.calls)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MY_LLM_", "OPENAI_"))}
    rerun = subprocess.run([sys.executable, "-m", "code_generation.evaluation", *args, "--ray-address", ray_instance,
                            "--no-progress"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert (out / "results.jsonl").read_bytes() == before
    assert len(fake_model.calls) == calls
    assert "9/12" in rerun.stderr and "6/12" in rerun.stderr  # the table, from the rows already there


def test_node_placement_one_model_actor_serves_the_node(ray_instance: str, fake_model: FakeModel,
                                                        tmp_path: Path) -> None:
    from code_generation.evaluation.ray_executor import RayExecutor
    from code_generation.evaluation.ray_worker import ModelSpec

    tasks = load_tasks(make_tasks(tmp_path / "tasks"), ids=["t00", "t06", "t09", "t10"])
    out = tmp_path / "out"
    spec = ModelSpec("openai:fake", fake_model.base_url, placement="node")
    with RayExecutor(spec) as executor:
        assert executor.model_label == f"openai:fake at {fake_model.base_url}"
        summary = evaluate(tasks, ["loop"], out=out, settings=SETTINGS, executor=executor)
    assert summary["strategies"]["loop"]["solved"] == 2
    assert {r["task"]: r["solved"] for r in rows(out)} == {"t00": True, "t06": True, "t09": False, "t10": False}
    pids = {c.pid for c in fake_model.calls}
    assert len(pids) == 1 and fake_model.calls[0].title.startswith("ray::NodeModel")  # one copy, in the actor
    import ray

    assert not [a for a in ray.util.list_named_actors() if a.startswith("tdd-eval-model-")]  # stopped afterwards


def test_without_an_address_a_local_instance_starts_and_stops(ray_instance: str, fake_model: FakeModel,
                                                               tmp_path: Path) -> None:
    """The default: the harness starts its own Ray on 127.0.0.1 with --jobs CPUs, and stops it."""
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MY_LLM_", "OPENAI_", "RAY_ADDRESS"))}
    proc = subprocess.run([sys.executable, "-m", "code_generation.evaluation", "--tasks", str(make_tasks(tmp_path / "t")),
                           "--ids", "t00", "t09", "--strategies", "single", "--out", str(out), "--executor", "ray",
                           "--jobs", "1", "--model", "openai:fake", "--base-url", fake_model.base_url],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert {r["task"]: r["solved"] for r in rows(out)} == {"t00": True, "t09": False}
    assert "1 node(s), 1 CPU(s)" in proc.stderr  # its own instance, not the test's (2 CPUs)


class HandsInTwice:
    """An executor whose every result comes back twice (as if a retried run's first run had returned too)."""

    model_label = "fake"

    def __init__(self) -> None:
        self.accepted: list[bool] = []

    def run(self, pending: Sequence[Pair], settings: LoopSettings, model: str, record: Recorder,
            status: Callable[[str], None]) -> None:
        for task, strategy in pending:
            n = int(task.id[1:])
            chat = FakeListChatModel(responses=[f"```python\ndef f{n:02d}():\n    return {n}\n```"])
            row, run_file = run_pair(task, strategy, get_strategy(strategy), chat, settings, run_tests, model)
            self.accepted += [record(row, run_file), record(dict(row), run_file)]


def test_the_driver_writes_a_pair_once_however_often_it_comes_back(tmp_path: Path) -> None:
    tasks, out = load_tasks(make_tasks(tmp_path / "tasks"), limit=2), tmp_path / "out"
    executor = HandsInTwice()
    summary = evaluate(tasks, ["single"], out=out, settings=SETTINGS, executor=executor)
    assert executor.accepted == [True, False, True, False]
    assert [(r["task"], r["solved"]) for r in rows(out)] == [("t00", True), ("t01", True)]
    assert summary["strategies"]["single"]["solved"] == 2
    evaluate(tasks, ["single"], out=out, settings=SETTINGS, executor=executor)  # a rerun: nothing pending
    assert len(executor.accepted) == 4 and len(rows(out)) == 2


# --------------------------------------------------------------------------- bad input


def test_ray_address_without_ray_executor_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    built: list[object] = []
    monkeypatch.setattr(evaluate_module, "get_chat_model", lambda *a, **k: built.append(a))
    code = main(["--tasks", str(make_tasks(tmp_path / "tasks")), "--out", str(tmp_path / "out"),
                 "--ray-address", "10.0.0.1:6379"])
    err = capsys.readouterr().err
    assert code == 2 and built == []
    assert err.strip() == "error: --ray-address works only with --executor ray"


def test_ray_missing_is_one_line_before_any_model(tmp_path: Path) -> None:
    """Ray's import fails in a fresh process (as without the extra); the model spec would fail differently."""
    program = ("import sys; sys.modules['ray'] = None\n"
               "from code_generation.evaluation.evaluate import main\n"
               "sys.exit(main(sys.argv[1:]))\n")
    proc = subprocess.run([sys.executable, "-c", program, "--tasks", str(make_tasks(tmp_path / "tasks")),
                           "--out", str(tmp_path / "out"), "--executor", "ray", "--model", "local:/no/such.gguf"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: --executor ray needs Ray, an optional extra: pip install '.[ray]' "
                                   "(or pip install 'ray>=2.40')")
    assert not (tmp_path / "out").exists()
