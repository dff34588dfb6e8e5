"""End to end with the real embedded model: the README's primes example must be solved."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from my_llm.models.model_tiers import DEFAULT_TIER, TIERS

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "primes"

pytestmark = pytest.mark.model


def test_primes_example_is_solved_by_the_embedded_model(tmp_path: Path) -> None:
    work = tmp_path / "primes"
    work.mkdir()
    shutil.copy(EXAMPLE / "test_prime_numbers.py", work)
    prompt = (EXAMPLE / "prompt.txt").read_text().strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MY_LLM_MODEL"))}
    env["MESSAGE_HISTORY"] = str(tmp_path / "history")
    env["MY_LLM_RESPONSE_CACHE"] = str(tmp_path / "responses")

    def create_script(run: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable, "-m", "code_generation.create_script", prompt,
                str(work / "prime_numbers.py"), "--test_file", str(work / "test_prime_numbers.py"),
                "--model", "local", "--seed", "1", "--json", "--run-dir", str(tmp_path / run),
            ],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900, stdin=subprocess.DEVNULL,
        )

    proc = create_script("run")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["success"] is True
    assert result["tests_passed"] == result["tests_total"] == 4
    assert result["tokens_in"] > 0 and result["tokens_out"] > 0
    assert result["model"].startswith("local:")
    assert "Model: local:" in proc.stderr
    # `local` is the default tier, and every call carries the runtime's own figures.
    assert TIERS[DEFAULT_TIER].weights.filename in result["model"]
    assert all(call["prompt_n"] is not None and call["cache_n"] is not None for call in result["calls"])
    assert result["cache_hit_rate"] is not None
    # The module really passes the tests, run plainly outside our sandbox by unittest itself.
    check = subprocess.run(
        [sys.executable, "-m", "unittest", "-q", "test_prime_numbers"],
        cwd=work, capture_output=True, text=True, timeout=120,
    )
    assert check.returncode == 0, check.stderr
    assert (tmp_path / "run" / "run.json").exists()

    # The same seeded run again is answered from the reply cache: the same module, no tokens.
    first_module = (work / "prime_numbers.py").read_text()
    again = create_script("run-again")
    assert again.returncode == 0, again.stderr[-3000:]
    rerun = json.loads(again.stdout.strip().splitlines()[-1])
    assert rerun["success"] is True and rerun["iterations"] == result["iterations"]
    assert rerun["tokens_in"] == rerun["tokens_out"] == 0
    assert (work / "prime_numbers.py").read_text() == first_module


def test_pseudo_function_is_written_by_the_embedded_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # In a child process, as a user's program would run it: the body is written on the first
    # call, cached, and the second run of the same program calls no model.
    monkeypatch.delenv("MY_LLM_MODEL", raising=False)
    program = tmp_path / "use_it.py"
    program.write_text(
        "from code_generation import pseudo_function\n\n\n"
        "@pseudo_function(model='local', seed=1, verbose=False)\n"
        "def my_sum_func(a: int, b: int, c: int) -> int:\n"
        '    """Returns the sum of a, b and c, multiplied by two.\n\n'
        "    >>> my_sum_func(1, 2, 3)\n    12\n"
        '    """\n\n\n'
        "print(my_sum_func(10, 20, 30))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MY_LLM_MODEL"))}
    env["MY_LLM_PSEUDO_CACHE"] = str(tmp_path / "cache")
    env["PYTHONPATH"] = str(ROOT)

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(program)], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=900, stdin=subprocess.DEVNULL)

    first = run()
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout.strip() == "120"
    (cached,) = (tmp_path / "cache").glob("my_sum_func-*.py")
    stamp = cached.stat().st_mtime_ns
    second = run()
    assert second.returncode == 0 and second.stdout.strip() == "120"
    assert cached.stat().st_mtime_ns == stamp  # served from the cache, not written again


def test_greedy_output_is_the_same_with_and_without_ngram_drafting() -> None:
    # Drafting may only change speed: the target model still picks every token. A reply that
    # copies a module with one change is where n-gram drafts are accepted, so that is the request.
    from my_llm.models.local_model import ServerConfig, _load_server
    from my_llm.models.local_model import ensure_tier_file as ensure

    source = (ROOT / "my_llm" / "models" / "model_tiers.py").read_text()[:2500]
    request = {
        "messages": [{"role": "user", "content": "Repeat this Python module exactly, but rename the class Tier "
                                                 f"to ModelTier everywhere:\n\n```python\n{source}\n```"}],
        "max_tokens": 200, "temperature": 0.0, "seed": 1, "cache_prompt": False,
    }
    path = str(ensure(TIERS[DEFAULT_TIER], show_progress=False))
    replies = {}
    for speculative in (None, "ngram_simple"):
        server = _load_server(ServerConfig(path, 4096, 1, 2, speculative), show_progress=False)
        response = server.handle_chat_completions(request)
        replies[speculative] = (response["choices"][0]["message"]["content"], response.get("timings") or {})
        del server
    plain, drafted = replies[None], replies["ngram_simple"]
    assert drafted[1].get("draft_n", 0) > 0  # drafting really ran
    assert plain[0] == drafted[0]


def test_a_streamed_reply_is_the_whole_reply_in_pieces_with_the_same_usage() -> None:
    # xllamacpp streams in-process through a callback (LocalChatModel._stream): the same request,
    # greedy, gives the same text piece by piece, and one usage record with llama.cpp's timings.
    from langchain_core.messages import HumanMessage

    from my_llm.models import get_chat_model
    from my_llm.models.usage import UsageTracker

    chat = get_chat_model("local", temperature=0.0, seed=1, max_tokens=48, show_progress=False)
    prompt = [HumanMessage("Explain in two sentences what a Python generator is.")]
    chat.invoke(prompt)  # so both calls below find the prompt cached: the same batches, the same logits
    whole = chat.invoke(prompt)
    chunks = list(chat.stream(prompt))
    assert len([c for c in chunks if c.text]) > 5  # pieces, not one block at the end
    streamed = chunks[0]
    for chunk in chunks[1:]:
        streamed = streamed + chunk
    assert streamed.text == whole.text
    assert sum(1 for c in chunks if c.usage_metadata) == 1
    assert streamed.usage_metadata["output_tokens"] == whole.usage_metadata["output_tokens"]  # type: ignore[index]
    call = UsageTracker().record("stream", prompt, streamed, 1.0)
    assert call.prompt_n is not None and call.cache_n is not None and call.tokens_per_s
    stream = chat.stream(prompt)
    next(stream)
    stream.close()  # llama.cpp stops at its next piece; the model answers the next request at once
    assert chat.invoke(prompt).text == whole.text


def test_the_in_process_model_refuses_requests_over_its_loopback_http_port() -> None:
    # xllamacpp also listens on a loopback port: without a key any local process could use the model.
    import urllib.error
    import urllib.request

    from my_llm.models.local_model import ServerConfig, _load_server
    from my_llm.models.local_model import ensure_tier_file as ensure

    server = _load_server(ServerConfig(str(ensure(TIERS["0.5b"], show_progress=False)), 1024, 1, 2),
                          show_progress=False)
    for path in ("/v1/models", "/v1/chat/completions"):
        body = json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode() if "chat" in path else None
        request = urllib.request.Request(f"{server.listening_address}{path}", data=body,
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 401
    reply = server.handle_chat_completions({"messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 3})
    assert reply["choices"][0]["message"]["content"]  # the tools' own calls still work


RUST_PROMPT = ("Write a Rust library with a function `pub fn sum_of_squares(n: u64) -> u64` that returns "
               "1*1 + 2*2 + ... + n*n, the sum of the squares of the numbers from 1 to n (0 when n is 0).")
RUST_TESTS = '''use squares::sum_of_squares;

#[test]
fn small_values() {
    assert_eq!(sum_of_squares(1), 1);
    assert_eq!(sum_of_squares(3), 14);
}

#[test]
fn zero_gives_zero() {
    assert_eq!(sum_of_squares(0), 0);
}

#[test]
fn ten() {
    assert_eq!(sum_of_squares(10), 385);
}
'''


def test_a_rust_library_is_written_by_the_embedded_model(rust_toolchain: object, tmp_path: Path) -> None:
    from code_generation.languages.rust.cargo_runner import run_cargo_tests

    work = tmp_path / "squares"
    work.mkdir()
    (work / "tests.rs").write_text(RUST_TESTS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MY_LLM_MODEL"))}
    env.update(MESSAGE_HISTORY=str(tmp_path / "history"), MY_LLM_RESPONSE_CACHE=str(tmp_path / "responses"))

    def create_script(run: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "code_generation.create_script", RUST_PROMPT, str(work / "src" / "lib.rs"),
             "--test_file", str(work / "tests.rs"), "--model", "local", "--seed", "1", "--json",
             "--run-dir", str(tmp_path / run)],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=900, stdin=subprocess.DEVNULL,
        )

    proc = create_script("run")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["success"] is True and result["tests_passed"] == result["tests_total"] == 3
    assert result["tokens_in"] > 0 and result["tokens_out"] > 0 and result["model"].startswith("local:")
    print(f"rust e2e: {result['iterations']} iteration(s), {result['seconds']} s, "
          f"{result['tokens_in']} tokens in, {result['tokens_out']} out")
    library = (work / "src" / "lib.rs").read_text()
    assert "fn main" not in library and "#[test]" not in library
    # The library passes the tests again, in a fresh sandbox of its own.
    assert run_cargo_tests(library, "squares", RUST_TESTS, "tests.rs").success
    assert (tmp_path / "run" / "best.rs").read_text() == library
    # The same seeded run again is answered from the reply cache: the same library, no tokens.
    again = create_script("run-again")
    assert again.returncode == 0, again.stderr[-3000:]
    rerun = json.loads(again.stdout.strip().splitlines()[-1])
    assert rerun["success"] is True and rerun["tokens_in"] == rerun["tokens_out"] == 0
    assert (work / "src" / "lib.rs").read_text() == library
