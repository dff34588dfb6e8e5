"""Property tests: what an OpenAI-compatible server answers, on its way into the tools.

Whatever comes back (a completion with fields missing or of the wrong type, any JSON, bytes that
are not JSON, a status of any kind, a body cut short of its length, the connection closed), a
chat call gives an AIMessage or a one-line ModelError, never a traceback; and what the server says
about itself (/v1/models, /props) becomes a ServerInfo whose profile and routing never raise.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from langchain_core.messages import BaseMessage, HumanMessage

from my_llm.errors import ModelError
from my_llm.models.server_chat import ServerChatModel
from my_llm.models.server_info import ServerInfo, probe_server
from my_llm.models.server_route import serves
from tests.fake_openai_raw import http_response, raw_server
from tests.fake_openai_server import completion
from tests.fuzzing import budget, refused_in_one_line, time_limit

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=10,
)
PATHS = [("choices",), ("choices", 0), ("choices", 0, "message"), ("choices", 0, "message", "content"),
         ("choices", 0, "message", "role"), ("choices", 0, "finish_reason"), ("usage",), ("usage", "prompt_tokens"),
         ("usage", "completion_tokens"), ("usage", "total_tokens"), ("id",), ("created",), ("model",), ("object",),
         ("choices", 0, "message", "tool_calls"), ("error",), ("timings",), ("choices", 0, "logprobs"),
         ("usage", "prompt_tokens_details")]


def _child(node: Any, step: str | int) -> Any:
    """``node[step]`` when the earlier replacements left it there, else None."""
    if isinstance(node, dict) and isinstance(step, str):
        return node.get(step)
    if isinstance(node, list) and isinstance(step, int) and step < len(node):
        return node[step]
    return None


@st.composite
def completions(draw: st.DrawFn) -> Any:
    """A chat completion with one to three fields removed or replaced by a value of any type."""
    body: Any = completion("def f():\n    return 1\n")
    for _ in range(draw(st.integers(1, 3))):
        *parents, last = draw(st.sampled_from(PATHS))
        node = body
        for step in parents:
            node = _child(node, step)
        if isinstance(node, dict):
            if draw(st.booleans()):
                node.pop(last, None)
            else:
                node[last] = draw(json_values)
        elif isinstance(node, list) and node and isinstance(last, int):
            node[0] = draw(json_values)
    return copy.deepcopy(body)


def _model(base_url: str) -> ServerChatModel:
    chat = ServerChatModel(model="m", base_url=base_url, api_key="x", max_retries=0, timeout=10)
    chat.use_server_info(ServerInfo(base_url, True, "vllm", ("m",)))  # no probe: the chat reply is the subject
    return chat


def _ask(base_url: str) -> None:
    try:
        with time_limit(30):
            reply = _model(base_url).invoke([HumanMessage("Write f.")])
    except Exception as exc:  # noqa: BLE001 - the property is about which exceptions escape
        refused_in_one_line(exc, ModelError)
        return
    # A message of another role ("role": "" or "user") is a message too: the engine takes its text
    # as the assistant's (code_generation/model_calls.py); what must never come out is a traceback.
    assert isinstance(reply, BaseMessage) and isinstance(reply.content, str | list)


@budget(1.0)
@given(st.one_of(completions(), json_values))
@example({"choices": []})  # IndexError in LangChain
@example({"choices": [{"message": None}]})  # AttributeError
@example({"choices": [{"message": {"content": 5}}]})  # pydantic ValidationError, many lines
@example({**completion("x"), "usage": {"prompt_tokens": "12", "completion_tokens": 3}})  # TypeError
@example({"error": {"message": "boom"}})  # an error object with status 200: ValueError
@example([1, 2])
@example({**completion("x"), "usage": []})  # LangChain adds usages up with .items(): AttributeError
def test_any_json_completion_is_a_message_or_one_line_model_error(body: Any) -> None:
    data = json.dumps(body).encode()
    with raw_server(lambda _m, _p, _b: http_response(200, data)) as url:
        _ask(url)


statuses = st.sampled_from([200, 200, 201, 204, 301, 400, 401, 404, 413, 422, 429, 500, 502, 503])
bodies = st.one_of(completions().map(lambda b: json.dumps(b).encode()), st.binary(max_size=60),
                   json_values.map(lambda v: json.dumps(v).encode()),
                   st.just(json.dumps(completion("x")).encode()))


@st.composite
def raw_answers(draw: st.DrawFn) -> bytes:
    """A response as bytes: any status and body, its length told right, too long (cut) or not at all."""
    body = draw(bodies)
    kind = draw(st.sampled_from(["plain", "cut", "short", "chunked", "nothing", "headers_only", "not_http"]))
    status = draw(statuses)
    if kind == "cut":  # the server died mid-body: fewer bytes than it announced
        return http_response(status, body[: draw(st.integers(0, max(0, len(body) - 1)))], declared=len(body) + 1)
    if kind == "short":
        return http_response(status, body, declared=max(0, len(body) - draw(st.integers(1, 5))))
    if kind == "chunked":
        head = http_response(status, b"", {"Transfer-Encoding": "chunked"})
        return head.replace(b"Content-Length: 0\r\n", b"") + f"{len(body) + 3:x}\r\n".encode() + body
    if kind == "nothing":
        return b""
    if kind == "headers_only":
        return http_response(status, b"")[: draw(st.integers(0, 30))]
    if kind == "not_http":
        return draw(st.binary(min_size=1, max_size=40))
    return http_response(status, body, {"retry-after-ms": "1"})


@budget(1.0)
@given(raw_answers())
@example(http_response(200, b'{"choices": [', declared=500))  # cut mid-body
@example(http_response(200, b""))  # no body: the OpenAI client raised JSONDecodeError
@example(http_response(200, json.dumps(completion("x")).encode(), declared=40))  # a Content-Length too short
@example(http_response(200, b"<html>proxy error</html>", {"Content-Type": "text/html"}))
def test_any_http_answer_is_a_message_or_one_line_model_error(answer: bytes) -> None:
    with raw_server(lambda _m, _p, _b: answer) as url:
        _ask(url)


@budget(1.0)
@given(json_values, json_values, st.sampled_from(["llamacpp", "vllm", "openai", "library", "x"]))
@example({"data": [{"id": "m", "owned_by": "llamacpp"}]}, {"default_generation_settings": {}, "model_path": 5}, "x")
@example({"data": [{"id": "m", "owned_by": "llamacpp"}]}, {"default_generation_settings": {}, "model_path": [1]}, "x")
def test_what_a_server_says_about_itself_never_breaks_routing(models: Any, props: Any, owner: str) -> None:
    if isinstance(models, dict) and isinstance(models.get("data"), list):
        models["data"].append({"id": "m", "owned_by": owner})

    def answer(_method: str, path: str, _body: bytes) -> bytes:
        return http_response(200, json.dumps(models if path.endswith("/models") else props).encode())

    with raw_server(answer) as url, time_limit(30):
        info = probe_server(url, timeout=5)  # a new port each time: never an answer cached before
        assert info.reachable
        assert isinstance(info.profile.candidates, int) and isinstance(info.local, bool)
        assert isinstance(info.continues_final_message, bool)
        serves(info, "0.5b")
        serves(info, "")
