"""One ``my-llm serve`` process, the default embedded model, every tool over real HTTP.

The server runs as a real process on a free port with an API key; create-script solves the
README's primes example through ``--model openai:local --base-url``, read-repo answers a question
and ``my-llm ask`` questions the run's own messages, all through it (its /metrics counts their
tokens, and none of them loads a copy). Last, Ctrl-C stops the server in the middle of a run:
the run ends with one clear line, its folder kept, and the server exits cleanly.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from my_llm.models.model_tiers import DEFAULT_TIER, TIERS
from my_llm.models.server_info import probe_server
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "primes"
LOAD_SECONDS = 600  # the first run also assembles the model file

pytestmark = pytest.mark.model


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    url: str  # http://127.0.0.1:PORT/v1
    key: str
    log: Path
    work: Path

    def request(self, path: str, body: dict | None = None, key: str | None = "default") -> tuple[int, bytes]:
        root = self.url.removesuffix("/v1")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(root + path, data=data, headers={"Content-Type": "application/json"})
        if key:
            req.add_header("Authorization", f"Bearer {self.key if key == 'default' else key}")
        try:
            with urllib.request.urlopen(req, timeout=300) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:  # not listening (yet, or any more)
            return 0, b""

    def tokens_served(self) -> float:
        """Prompt and generated tokens the server has processed, from its Prometheus metrics."""
        status, body = self.request("/metrics")
        assert status == 200, body
        total = 0.0
        for line in body.decode().splitlines():
            if line.startswith(("llamacpp:prompt_tokens_total", "llamacpp:tokens_predicted_total")):
                total += float(line.split()[-1])
        return total

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("OPENAI_", "MY_LLM_", "PUBSUB_", "GOOGLE_", "GCLOUD_", "CHROMA_"))}
        env.update(OPENAI_API_KEY=self.key, MESSAGE_HISTORY=str(self.work / "history"),
                   MY_LLM_RESPONSE_CACHE=str(self.work / "responses"), CHROMA_DB_PATH=str(self.work / "chroma"),
                   **extra)
        return env


def _my_llm() -> list[str]:
    script = Path(sys.executable).parent / "my-llm"
    return [str(script)] if script.exists() else [sys.executable, "-m", "my_llm.cli"]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    work = tmp_path_factory.mktemp("serve")
    port, key = free_port(), secrets.token_hex(8)
    log = work / "serve.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MY_LLM_MODEL", "MY_LLM_BASE_URL"))}
    with log.open("wb") as out:
        proc = subprocess.Popen([*_my_llm(), "serve", "--port", str(port), "--api-key", key], stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    server = Served(proc, f"http://127.0.0.1:{port}/v1", key, log, work)
    deadline = time.monotonic() + LOAD_SECONDS
    while server.request("/health", key=None)[0] != 200:
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"my-llm serve did not start:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.5)
    yield server
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_the_openai_api_with_the_parameters_the_tools_send(served: Served) -> None:
    status, body = served.request("/v1/models")
    assert status == 200 and "local" in [m["id"] for m in json.loads(body)["data"]]
    assert served.request("/v1/models", key=None)[0] == 401  # the key is checked on every endpoint but /health
    info = probe_server(served.url, served.key)  # what the tools ask before they choose their defaults
    assert info.kind == "llama.cpp" and info.continues_final_message and info.slots == 2
    assert Path(info.model_path or "").name == TIERS[DEFAULT_TIER].weights.filename
    assert info.profile == TIERS[DEFAULT_TIER].profile
    prefix = "```python\ndef add(a, b):\n    return"
    request = {"model": "local", "max_tokens": 24, "temperature": 0, "seed": 1, "stop": ["```"],
               "messages": [{"role": "user", "content": "Write add(a, b) in Python."},
                            {"role": "assistant", "content": prefix}]}
    assert served.request("/v1/chat/completions", request, key="wrong")[0] == 401
    assert served.request("/v1/chat/completions", request, key=None)[0] == 401
    status, body = served.request("/v1/chat/completions", request)
    assert status == 200, body
    reply = json.loads(body)
    text = reply["choices"][0]["message"]["content"]
    usage = reply["usage"]
    # A final assistant message is continued, not answered: llama.cpp returns it with the few tokens
    # it added (the prefix alone is more than 12 tokens), and the stop sequence ends the code.
    assert text.startswith(prefix) and "a + b" in text[len(prefix):] and "```" not in text[len(prefix):], text
    assert usage["prompt_tokens"] > 10 and 0 < usage["completion_tokens"] < 12, usage
    assert reply["timings"]["prompt_n"] >= 0  # llama.cpp's figures, kept per call by the tools
    again = json.loads(served.request("/v1/chat/completions", request)[1])
    assert again["choices"][0]["message"]["content"] == text  # same seed, temperature 0: same reply
    status, stream = served.request("/v1/chat/completions", {**request, "stream": True,
                                                             "stream_options": {"include_usage": True}})
    events = [line[6:] for line in stream.decode().splitlines() if line.startswith("data: ")]
    assert status == 200 and events[-1] == "[DONE]" and len(events) > 3
    assert any(json.loads(e).get("usage") for e in events[:-1])


def test_create_script_solves_primes_through_the_server_and_ask_reads_the_run(served: Served, tmp_path: Path) -> None:
    work = tmp_path / "primes"
    work.mkdir()
    shutil.copy(EXAMPLE / "test_prime_numbers.py", work)
    before = served.tokens_served()
    proc = subprocess.run(
        [sys.executable, "-m", "code_generation.create_script", (EXAMPLE / "prompt.txt").read_text().strip(),
         str(work / "prime_numbers.py"), "--test_file", str(work / "test_prime_numbers.py"),
         "--model", "openai:local", "--base-url", served.url, "--seed", "1", "--json", "--run-dir", str(tmp_path / "run")],
        capture_output=True, text=True, env=served.env(), cwd=tmp_path, timeout=900, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["success"] and result["tests_passed"] == result["tests_total"] == 4
    assert result["model"] == f"openai:local at {served.url}" and "Loading model" not in proc.stderr
    assert result["tokens_in"] > 0 and result["cost_usd"] == 0  # the server's own usage, and it is free
    assert all(call["prompt_n"] is not None for call in result["calls"])  # llama.cpp's timings came through
    settings = json.loads((tmp_path / "run" / "request.json").read_text())["settings"]
    assert settings["candidates"] == TIERS[DEFAULT_TIER].profile.candidates  # the served tier's profile
    assert served.tokens_served() - before >= result["tokens_in"] - sum(c["cache_n"] or 0 for c in result["calls"])
    check = subprocess.run([sys.executable, "-m", "unittest", "-q", "test_prime_numbers"], cwd=work,
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr

    # my-llm ask finds the server through MY_LLM_BASE_URL and questions what create-script logged.
    before = served.tokens_served()
    ask = subprocess.run([*_my_llm(), "ask", "Which function did you write for the primes task?", "--namespace",
                          "create_script", "-k", "3"], capture_output=True, text=True, timeout=600,
                         env=served.env(MY_LLM_BASE_URL=served.url), stdin=subprocess.DEVNULL)
    assert ask.returncode == 0, ask.stderr[-2000:]
    assert ask.stdout.strip() and "Loading model" not in ask.stderr
    assert served.tokens_served() > before


def test_read_repo_answers_through_the_server(served: Served, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "geometry.py").write_text('def circle_area(radius):\n    """Area of a circle."""\n'
                                      "    return 3.14159 * radius * radius\n")
    (repo / "strings.py").write_text("def shout(text):\n    return text.upper() + '!'\n")
    before = served.tokens_served()
    proc = subprocess.run(
        [sys.executable, "-m", "qna.read_repo", str(repo), "--no-summaries", "--json", "--base-url", served.url,
         "-q", "Which function computes the area of a circle?"],
        capture_output=True, text=True, env=served.env(), timeout=600, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    answer = json.loads(proc.stdout.strip().splitlines()[-1])
    assert answer["answer"].strip() and "Loading model" not in proc.stderr
    assert any("geometry.py" in str(source) for source in answer["sources"])
    assert served.tokens_served() > before


def test_ctrl_c_stops_the_server_mid_run_and_the_run_ends_with_one_line(served: Served, tmp_path: Path) -> None:
    work = tmp_path / "primes"
    work.mkdir()
    shutil.copy(EXAMPLE / "test_prime_numbers.py", work)
    run_dir = tmp_path / "run"
    client = subprocess.Popen(
        [sys.executable, "-m", "code_generation.create_script", (EXAMPLE / "prompt.txt").read_text().strip(),
         str(work / "prime_numbers.py"), "--test_file", str(work / "test_prime_numbers.py"), "--model",
         "openai:local", "--base-url", served.url, "--seed", "7", "--no-cache", "--run-dir", str(run_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=served.env(), cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not any(slot.get("is_processing") for slot in json.loads(served.request("/slots")[1] or b"[]")):
        assert client.poll() is None and time.monotonic() < deadline, "no request reached the server"
        time.sleep(0.1)
    served.proc.send_signal(signal.SIGINT)  # Ctrl-C, with a request in flight
    assert served.proc.wait(timeout=60) == 0
    # One request per candidate of the round: the tier's profile decides how many were in flight.
    assert re.search(r"Stopped; [12] request\(s\) in flight were cut off\.", served.log.read_text(errors="replace"))
    _, stderr = client.communicate(timeout=120)
    errors = [line for line in stderr.splitlines() if "error:" in line]
    assert client.returncode == 2, stderr[-2000:]
    assert len(errors) == 1 and served.url.removesuffix("/v1") in errors[0], stderr[-2000:]
    assert "closed the connection" in errors[0] or "nothing answers" in errors[0], errors[0]
    assert "Traceback" not in stderr
    assert json.loads((run_dir / "request.json").read_text())["model"] == f"openai:local at {served.url}"
    assert not (work / "prime_numbers.py").exists()


def test_ctrl_c_on_an_idle_server_stops_it_cleanly_and_frees_the_port(tmp_path: Path) -> None:
    # The small tier, on any free port (--port 0): the address printed on stdout is the one bound.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MY_LLM_MODEL", "MY_LLM_BASE_URL"))}
    proc = subprocess.Popen([*_my_llm(), "serve", "--model", "local:0.5b", "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()  # printed once the model is loaded and the port bound
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1"), url
        with urllib.request.urlopen(url.removesuffix("/v1") + "/health", timeout=10) as response:
            assert response.status == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
        assert "Stopped." in (proc.stderr.read() if proc.stderr else "")
        with pytest.raises(OSError):
            urllib.request.urlopen(url.removesuffix("/v1") + "/health", timeout=5)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
