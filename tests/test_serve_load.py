"""benchmarks/serve_load.py without a model: real HTTP to fake servers, a few seconds of load each.

The real run holds ``my-llm serve`` for five minutes; here the same clients, samplers and figures
run against a fake OpenAI-compatible server (in this process, or started as the benchmark starts
``my-llm serve``), so the counts, the failures and the clean stop are checked in seconds.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from benchmarks import serve_load
from tests.fake_openai_server import Seen, completion, fake_server

TIMINGS = {"prompt_n": 30, "cache_n": 10, "prompt_ms": 5.0, "predicted_ms": 15.0}


def load(url: str, out: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    argv = ["--url", url, "--clients", "3", "--duration", "1.5", "--sample-seconds", "0.3", "--warmup-seconds",
            "0.2", "--max-tokens", "64", "--timeout", "10", "--out", str(out), *extra]
    code = serve_load.main(argv)
    return code, json.loads(out.read_text())


class Counting:
    """A handler that answers after a short wait and keeps what it did, under a lock."""

    def __init__(self, bad: Any = None) -> None:
        self.lock = threading.Lock()
        self.chats: list[dict[str, Any]] = []
        self.bad_answers = 0
        self.bad = bad or (lambda n: None)

    def __call__(self, seen: Seen, _count: int) -> Any:
        if seen.path.endswith("/models"):
            return 200, {"object": "list", "data": [{"id": "fake-model", "owned_by": "llamacpp"}]}, {}
        if not seen.path.endswith("/chat/completions"):
            return 404, {"error": "not here"}, {}
        with self.lock:
            self.chats.append(seen.body)
            number = len(self.chats)
        time.sleep(0.03)
        answer = self.bad(number)
        if answer is not None:
            with self.lock:
                self.bad_answers += 1
            return answer
        return 200, completion("def f():\n    return 1\n", 40, 12, timings=TIMINGS), {}


def test_every_request_is_counted_and_measured(tmp_path: Path) -> None:
    handler = Counting()
    with fake_server(handler) as server:
        code, result = load(server.url, tmp_path / "load.json", "--pid", str(os.getpid()))
    summary = result["summary"]
    assert code == 0
    assert summary["requests"] == len(handler.chats) == len(result["requests"]) > 10
    assert summary["failures"] == 0 and summary["ok"] == summary["requests"]
    assert len(summary["per_client"]) == 3 and min(summary["per_client"]) > 0
    assert summary["completion_tokens"] == 12 * summary["ok"]
    assert summary["prompt_tokens_from_cache"] == 10 * summary["ok"]
    assert summary["latency_s"]["p50"] is not None
    assert summary["latency_s"]["p50"] <= summary["latency_s"]["p90"] <= summary["latency_s"]["max"]
    assert summary["queue_wait_s"]["p50"] is not None  # latency minus the 20 ms of timings
    assert summary["probes"] > 0 and summary["probe_failures"] == 0
    assert summary["requests_per_min"] > 0
    # Nothing for a cache to answer: every prompt and seed is new, with the limits asked for.
    assert len({body["messages"][-1]["content"] for body in handler.chats}) == len(handler.chats)
    assert len({body["seed"] for body in handler.chats}) == len(handler.chats)
    assert {body["max_tokens"] for body in handler.chats} == {64}
    assert {body["model"] for body in handler.chats} == {"fake-model"}
    memory = summary["memory"]
    assert memory["measured"] and memory["flat"] is True and "5%" in memory["rule"]
    assert memory["start_mb"] > 0 and memory["max_mb"] >= memory["end_mb"]
    assert memory["slope_mb_per_min"] is not None
    assert len(result["memory_samples"]) >= 3
    assert (tmp_path / "load.png").stat().st_size > 0


def test_failed_answers_are_counted_as_failures(tmp_path: Path) -> None:
    def bad(number: int) -> Any:
        if number % 4 == 0:
            return 500, {"error": {"message": "boom"}}, {}
        if number % 7 == 0:
            return 200, b"not json at all", {}
        if number % 9 == 0:
            return 200, completion(""), {}
        return None

    handler = Counting(bad)
    with fake_server(handler) as server:
        code, result = load(server.url, tmp_path / "load.json", "--no-plot", "--fresh-connections")
    summary = result["summary"]
    assert code == 1
    assert summary["requests"] == len(handler.chats)
    assert summary["failures"] == handler.bad_answers > 0
    assert summary["ok"] == summary["requests"] - handler.bad_answers
    assert summary["failure_kinds"]["HTTP 500"] == len(handler.chats) // 4
    assert "malformed body" in summary["failure_kinds"]
    assert sum(summary["failure_kinds"].values()) == summary["failures"]
    assert summary["memory"]["measured"] is False  # --url without --pid
    failed = [r for r in result["requests"] if r["error"]]
    assert all(r["status"] == 500 or r["status"] == 200 for r in failed)


def test_a_dead_server_is_every_request_failed(tmp_path: Path) -> None:
    from tests.conftest import free_port

    code, result = load(f"http://127.0.0.1:{free_port()}/v1", tmp_path / "load.json", "--no-plot")
    summary = result["summary"]
    assert code == 1 and summary["ok"] == 0 and summary["failures"] == summary["requests"] > 0
    assert summary["probe_failures"] == summary["probes"]


FAKE_SERVE = '''
import json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self.send({"data": [{"id": "fake-serve"}]} if self.path == "/v1/models" else {"status": "ok"})

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(0.02)
        self.send({"choices": [{"index": 0, "message": {"role": "assistant", "content": "x = 1"}}],
                   "usage": {"prompt_tokens": 5, "completion_tokens": 3}})

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
'''


@pytest.fixture
def fake_serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmark starts this script where it would start ``my-llm serve``."""
    script = tmp_path / "fake_serve.py"
    script.write_text(FAKE_SERVE)
    monkeypatch.setattr(serve_load, "serve_command", lambda args, port: [sys.executable, str(script), str(port)])


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.usefixtures("fake_serve")
def test_the_server_it_starts_is_measured_and_stopped(tmp_path: Path) -> None:
    out = tmp_path / "own.json"
    code = serve_load.main(["--clients", "2", "--duration", "1", "--sample-seconds", "0.3", "--no-plot",
                            "--out", str(out)])
    result = json.loads(out.read_text())
    assert code == 0, result["summary"]
    assert result["server_started_here"] and result["model"] == "fake-serve"
    assert result["summary"]["failures"] == 0 and result["summary"]["ok"] > 0
    assert result["summary"]["memory"]["measured"]  # the child's own RSS, from /proc
    assert gone(result["server_pid"])


@pytest.mark.usefixtures("fake_serve")
def test_ctrl_c_stops_the_server_it_started() -> None:
    args = serve_load.parse_args(["--duration", "1"])
    with pytest.raises(KeyboardInterrupt):
        with serve_load.own_server(args) as (url, pid):
            assert url.endswith("/v1") and not gone(pid)
            raise KeyboardInterrupt
    assert gone(pid)


def test_figures() -> None:
    assert serve_load.slope_per_minute([(0, 100.0), (60, 110.0), (120, 120.0)]) == 10.0
    assert serve_load.slope_per_minute([(5, 1.0)]) is None
    assert serve_load.percentiles([]) == {"p50": None, "p90": None, "p99": None, "max": None}
    assert serve_load.percentiles([2.0])["p99"] == 2.0
    cfg = serve_load.LoadConfig(duration=600, warmup_seconds=60)
    samples = [{"t": t, "rss_mb": 1000 + t, "anon_mb": 500.0} for t in range(0, 600, 5)]
    memory = serve_load.memory_summary(samples, first_answer=10, cfg=cfg)
    assert memory["after_warmup_mb"] == 1070 and memory["end_mb"] == 1595
    assert memory["flat"] is False and memory["slope_mb_per_min"] == 60.0
    assert serve_load.judge_reply(503, "busy")["error"].startswith("HTTP 503")
    assert serve_load.judge_reply(200, "{}")["error"].startswith("malformed body")
    assert "error" not in serve_load.judge_reply(200, json.dumps(completion("ok")))
