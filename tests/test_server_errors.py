"""Errors real OpenAI-compatible servers give, met over real HTTP, become one line each.

A small server of the test's own (`tests/fake_openai_server.py`, stdlib http.server in a thread)
answers 429, 500, a dropped connection, a reply without usage, a refused parameter, a context
overflow, a wrong model name; the client is the tools' own (`my_llm.models.get_chat_model`).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from my_llm.errors import ModelError
from my_llm.models import describe_model, explain_error, get_chat_model, profile_of
from my_llm.models.model_tiers import LOCAL_FILE_PROFILE, REMOTE_PROFILE, TIERS
from my_llm.models.response_cache import CachedChatModel, ResponseCache
from my_llm.models.server_chat import ServerChatModel
from my_llm.models.server_info import ServerInfo, probe_server
from my_llm.models.server_route import server_url_for, serves
from my_llm.models.usage import UsageTracker
from tests.fake_openai_server import CLOSE, Answer, Seen, completion, fake_server

ROOT = Path(__file__).resolve().parent.parent
FAST_RETRY = {"retry-after-ms": "10"}  # the OpenAI client honours it: retries without the backoff wait


def routes(chat: Callable[[Seen, int], Answer], models: tuple[str, ...] = ("m",), owned_by: str = "someone",
           props: dict | None = None) -> Callable[[Seen, int], Answer]:
    """GET /v1/models and /props as a server of that kind answers them; chat requests to ``chat``."""
    def handle(seen: Seen, count: int) -> Answer:
        if seen.method == "GET" and seen.path == "/v1/models":
            return 200, {"object": "list", "data": [{"id": m, "object": "model", "owned_by": owned_by}
                                                    for m in models]}, {}
        if seen.method == "GET" and seen.path == "/props":
            return (200, props, {}) if props is not None else (404, {"error": {"message": "not found"}}, {})
        return chat(seen, count)
    return handle


def model_at(url: str, **kwargs: object) -> ServerChatModel:
    chat = get_chat_model("openai:m", base_url=url, **kwargs)  # type: ignore[arg-type]
    assert isinstance(chat, ServerChatModel)
    return chat


def ask(chat: object) -> AIMessage:
    reply = chat.invoke([HumanMessage("Write f.")])  # type: ignore[attr-defined]
    assert isinstance(reply, AIMessage)
    return reply


def one_line_error(chat: object) -> str:
    with pytest.raises(ModelError) as caught:
        ask(chat)
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400, message
    return message


def test_429_is_retried_with_the_servers_pause_then_answered() -> None:
    def chat(seen: Seen, count: int) -> Answer:
        if count < 3:
            return 429, {"error": {"message": "Rate limit reached", "type": "rate_limit"}}, FAST_RETRY
        return 200, completion("ok"), {}

    with fake_server(routes(chat)) as server:
        reply = ask(model_at(server.base_url))
    assert reply.content == "ok"
    assert len(server.chat_requests()) == 3


def test_429_that_never_ends_is_one_line_naming_the_tries() -> None:
    with fake_server(routes(lambda s, c: (429, {"error": {"message": "slow down"}}, FAST_RETRY))) as server:
        message = one_line_error(model_at(server.base_url))
    assert "429" in message and "4 tries" in message and server.url in message
    assert len(server.chat_requests()) == 4  # the first try and three retries


def test_500_is_retried_then_reported_with_the_servers_words() -> None:
    body = {"error": {"message": "CUDA out of memory\nat slot 0", "type": "server_error"}}
    with fake_server(routes(lambda s, c: (500, body, FAST_RETRY))) as server:
        message = one_line_error(model_at(server.base_url))
    assert "HTTP 500" in message and "4 tries" in message and "CUDA out of memory at slot 0" in message
    assert len(server.chat_requests()) == 4


def test_a_connection_closed_without_an_answer_says_the_server_stopped() -> None:
    with fake_server(routes(lambda s, c: CLOSE)) as server:
        message = one_line_error(model_at(server.base_url))
    assert "closed the connection" in message and server.url in message
    assert len(server.chat_requests()) == 4


def test_nothing_listening_is_connection_refused_with_the_fix() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    message = one_line_error(model_at(f"http://127.0.0.1:{port}/v1", ))
    assert f"nothing answers at http://127.0.0.1:{port}" in message and "my-llm serve" in message


def test_a_reply_without_usage_is_used_and_its_tokens_estimated(capsys: pytest.CaptureFixture[str]) -> None:
    with fake_server(routes(lambda s, c: (200, completion("def f():\n    return 2\n", prompt_tokens=None), {}))) as server:
        chat = model_at(server.base_url)
        first, second = ask(chat), ask(chat)
    assert first.content.startswith("def f") and not first.usage_metadata
    call = UsageTracker(model_name="m").record("code", [HumanMessage("Write f.")], second, 0.1)
    assert call.estimated and call.tokens_in > 0 and call.tokens_out > 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "reports no token usage" in line]
    assert len(warnings) == 1  # said once, not on every call


def test_a_prompt_the_server_cut_is_detected_from_its_usage() -> None:
    # Ollama with its 2048-token default keeps the end of a long prompt and says nothing.
    long_request = [HumanMessage("def f(x):\n    return x + 1\n" * 600)]  # about 4,000 tokens by our count

    def chat(seen: Seen, count: int) -> Answer:
        return 200, completion("x", prompt_tokens=2048 if count == 1 else 4600), {}

    with fake_server(routes(chat)) as server:
        model = model_at(server.base_url)
        with pytest.raises(ModelError) as caught:
            model.invoke(long_request)
        assert model.invoke(long_request).content == "x"  # counted whole (code: more tokens than our count)
        assert ask(model).content == "x"  # a short request is never judged
    message = str(caught.value)
    assert "used 2048 prompt tokens" in message and "num_ctx" in message and "\n" not in message


@pytest.mark.parametrize("param", ["seed", "stop"])
def test_a_refused_parameter_is_dropped_and_the_request_sent_again(param: str, capsys: pytest.CaptureFixture[str]) -> None:
    def chat(seen: Seen, count: int) -> Answer:
        if param in seen.body:
            return 400, {"error": {"message": f"Unrecognized request argument supplied: {param}",
                                   "type": "invalid_request_error", "param": param}}, {}
        return 200, completion("fine"), {}

    with fake_server(routes(chat)) as server:
        model = model_at(server.base_url, seed=3)
        assert model.invoke([HumanMessage("a")], stop=["```"]).content == "fine"
        assert model.invoke([HumanMessage("b")], stop=["```"]).content == "fine"
    sent = server.chat_requests()
    assert [param in s.body for s in sent] == [True, False, False]  # refused once, never sent again
    other = "stop" if param == "seed" else "seed"
    assert all(other in s.body for s in sent)  # the other one still goes
    assert capsys.readouterr().err.count(f"does not accept `{param}`") == 1


def test_an_unknown_bad_request_is_one_line_not_a_retry_loop() -> None:
    body = {"error": {"message": "messages: field required", "type": "invalid_request_error"}}
    with fake_server(routes(lambda s, c: (400, body, {}))) as server:
        message = one_line_error(model_at(server.base_url))
    assert "answered 400: messages: field required" in message
    assert len(server.chat_requests()) == 1


def test_a_request_longer_than_the_context_window_names_both_sizes() -> None:
    body = {"error": {"code": 400, "message": "the request exceeds the available context size, try increasing it",
                      "type": "exceed_context_size_error", "n_prompt_tokens": 9000, "n_ctx": 8192}}
    with fake_server(routes(lambda s, c: (400, body, {}))) as server:
        message = one_line_error(model_at(server.base_url))
    assert "context window (9000 prompt tokens, 8192 in its window)" in message and "--ctx" in message


def test_vllm_context_overflow_wording_is_understood_too() -> None:
    body = {"object": "error", "message": "This model's maximum context length is 2048 tokens. However, you "
            "requested 3100 tokens (3000 in the messages, 100 in the completion).", "type": "BadRequestError",
            "code": 400}
    with fake_server(routes(lambda s, c: (400, body, {}))) as server:
        assert "does not fit" in one_line_error(model_at(server.base_url))


def test_a_wrong_model_name_lists_the_models_the_server_has() -> None:
    body = {"error": {"message": 'model "m" not found, try pulling it first'}}
    with fake_server(routes(lambda s, c: (404, body, {}), models=("qwen2.5-coder:1.5b",), owned_by="library")) as server:
        message = one_line_error(model_at(server.base_url))
    assert 'model "m" not found' in message
    assert "it serves qwen2.5-coder:1.5b; use --model openai:qwen2.5-coder:1.5b" in message


def test_a_refused_key_says_which_variable_to_set() -> None:
    body = {"error": {"message": "Invalid API Key", "type": "authentication_error"}}
    with fake_server(routes(lambda s, c: (401, body, {}))) as server:
        message = one_line_error(model_at(server.base_url))
    assert "refused the API key (401)" in message and "OPENAI_API_KEY" in message


def test_explain_error_translates_the_raw_openai_exception_too() -> None:
    from langchain_openai import ChatOpenAI

    with fake_server(routes(lambda s, c: (503, {"error": {"message": "loading model"}}, FAST_RETRY))) as server:
        plain = ChatOpenAI(model="m", base_url=server.base_url, api_key="x", max_retries=1)
        with pytest.raises(Exception) as caught:
            plain.invoke("hi")
    line = explain_error(caught.value)
    assert line is not None and "HTTP 503" in line and "loading model" in line


def test_llama_cpp_timings_are_kept_for_the_prompt_cache_figures() -> None:
    timings = {"prompt_n": 40, "cache_n": 160, "prompt_per_second": 85.0, "predicted_per_second": 30.0}
    with fake_server(routes(lambda s, c: (200, completion("x", timings=timings), {}))) as server:
        reply = ask(model_at(server.base_url))
    call = UsageTracker(model_name="m").record("code", [HumanMessage("a")], reply, 0.1)
    assert (call.prompt_n, call.cache_n, call.tokens_per_s) == (40, 160, 30.0)


LLAMA_PROPS = {"default_generation_settings": {"n_ctx": 8192}, "total_slots": 2,
               "model_path": "/cache/models/" + TIERS["0.5b"].weights.filename}


def test_a_llama_cpp_server_is_driven_like_the_tier_it_serves() -> None:
    with fake_server(routes(lambda s, c: (200, completion(), {}), models=("local:0.5b",), owned_by="llamacpp",
                            props=LLAMA_PROPS)) as server:
        chat = model_at(server.base_url)
        assert profile_of(chat) == TIERS["0.5b"].profile  # two candidates: free on one's own server
        assert chat.continues_final_message  # llama.cpp continues a final assistant message: prefill on
        cached = CachedChatModel(inner=chat, store=ResponseCache())
        assert cached.continues_final_message and profile_of(cached) == TIERS["0.5b"].profile
        assert describe_model(chat) == f"openai:m at {server.base_url}"


def test_other_local_servers_get_free_candidates_but_no_prefill_and_openai_gets_neither() -> None:
    with fake_server(routes(lambda s, c: (200, completion(), {}), owned_by="vllm")) as server:
        chat = model_at(server.base_url)
        assert profile_of(chat) == LOCAL_FILE_PROFILE and not chat.continues_final_message
    with fake_server(routes(lambda s, c: (200, completion(), {}), owned_by="openai")) as server:
        assert profile_of(model_at(server.base_url)) == REMOTE_PROFILE
    remote = ServerInfo("https://api.example.com/v1", True, "vllm")
    assert remote.profile == REMOTE_PROFILE  # not ours, so every sample may cost money


def test_my_llm_base_url_sends_the_embedded_model_to_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    with fake_server(routes(lambda s, c: (200, completion("served"), {}), models=("local",), owned_by="llamacpp",
                            props=LLAMA_PROPS)) as server:
        monkeypatch.setenv("MY_LLM_BASE_URL", server.base_url)
        monkeypatch.delenv("MY_LLM_MODEL", raising=False)
        for spec in (None, "local", "local:0.5b"):
            chat = get_chat_model(spec, seed=1)
            assert isinstance(chat, ServerChatModel), spec
            assert chat.model_name == "local" and chat.openai_api_base == server.base_url
            assert chat.max_tokens == 1024 and chat.seed == 1  # as the in-process model would run
        assert ask(chat).content == "served"
    assert server_url_for("openai:gpt-4o-mini", None, {"MY_LLM_BASE_URL": "http://x/v1"}) is None
    assert server_url_for(None, None, {"MY_LLM_BASE_URL": "http://x/v1", "MY_LLM_MODEL": "openai:o"}) is None
    assert server_url_for("local:1.5b", "http://y/v1", {}) == "http://y/v1"
    info = probe_server(server.base_url)  # remembered from above: the server is gone now
    assert serves(info, "") and serves(info, "0.5b") and serves(info, LLAMA_PROPS["model_path"])
    assert not serves(info, "1.5b")


def test_my_llm_base_url_with_nothing_there_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("MY_LLM_BASE_URL", f"http://127.0.0.1:{port}/v1")
    with pytest.raises(ModelError) as caught:
        get_chat_model("local")
    assert "nothing answers at" in str(caught.value) and "unset MY_LLM_BASE_URL" in str(caught.value)


def test_create_script_against_a_failing_server_prints_one_line(tmp_path: Path) -> None:
    test_file = ROOT / "examples" / "primes" / "test_prime_numbers.py"
    (tmp_path / "test_prime_numbers.py").write_text(test_file.read_text())
    body = {"error": {"message": "server overloaded"}}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MY_LLM_"))}
    env["MY_LLM_RESPONSE_CACHE"] = str(tmp_path / "responses")
    with fake_server(routes(lambda s, c: (502, body, FAST_RETRY))) as server:
        proc = subprocess.run(
            [sys.executable, "-m", "code_generation.create_script", "Sum the first n primes",
             str(tmp_path / "prime_numbers.py"), "--test_file", str(tmp_path / "test_prime_numbers.py"),
             "--model", "openai:m", "--base-url", server.base_url, "--no-memory", "--json",
             "--run-dir", str(tmp_path / "run")],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, stdin=subprocess.DEVNULL,
        )
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert proc.returncode == 2, proc.stderr
    assert len(errors) == 1 and "HTTP 502" in errors[0] and "server overloaded" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert json.loads((tmp_path / "run" / "request.json").read_text())["model"].startswith("openai:m at")
    assert not (tmp_path / "prime_numbers.py").exists()
