"""Streamed replies (issue 31): the embedded model's ``_stream`` over a fake xllamacpp server, the
OpenAI-compatible path's stream against a loopback server that can cut it, and ``answer_question``
handing the answer out as it is written. No real model is loaded.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import fields
from typing import Any, cast

import pytest
from langchain_core.callbacks import get_usage_metadata_callback
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from pydantic import SecretStr

from my_llm.errors import ModelError
from my_llm.models import local_model
from my_llm.models.local_model import LocalChatModel
from my_llm.models.server_chat import ServerChatModel
from my_llm.models.usage import UsageTracker
from qna.answer import FIRST_TOKEN, answer_question
from tests.fake_openai_raw import http_response, raw_server

PIECES = ["def", " area", "(r):", "\n    return", " 3.14 * r * r", "\n"]
USAGE = {"prompt_tokens": 40, "completion_tokens": 6, "total_tokens": 46}
TIMINGS = {"prompt_n": 12, "cache_n": 28, "prompt_per_second": 120.0, "predicted_per_second": 14.0}
PROMPT = [HumanMessage("Write area(r).")]


def _chunk(delta: dict[str, Any] | None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    """One chat.completion.chunk as llama.cpp streams it (``delta=None``: no choices, e.g. usage)."""
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": choices, **extra}


def _llama_chunks(pieces: list[str] = PIECES, finished: bool = True) -> list[dict[str, Any]]:
    """What llama.cpp's stream holds: the role, the text, the finish, then usage and timings."""
    chunks = [_chunk({"role": "assistant", "content": None})]
    chunks += [_chunk({"content": piece}) for piece in pieces]
    if finished:
        chunks += [_chunk({}, "stop"), _chunk(None, usage=USAGE, timings=TIMINGS)]
    return chunks


class FakeLlama:
    """xllamacpp's ``Server``: a whole reply without a callback, else each chunk to the callback
    (stopping when it answers True), as ``handle_chat_completions`` does."""

    def __init__(self, chunks: list[Any] | None = None, before: Callable[[int], None] | None = None,
                 fail: Exception | None = None) -> None:
        self.chunks = _llama_chunks() if chunks is None else chunks
        self.before = before  # called before chunk i is sent (a test can hold the stream there)
        self.fail = fail
        self.requests: list[tuple[dict[str, Any], bool]] = []
        self.stopped_at: int | None = None
        self.done = threading.Event()

    def handle_chat_completions(self, request: dict[str, Any], callback: Any = None) -> Any:
        self.requests.append((json.loads(json.dumps(request)), callback is not None))
        if self.fail is not None:
            raise self.fail
        if callback is None:
            message = {"role": "assistant", "content": "".join(PIECES)}
            return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": USAGE, "timings": TIMINGS}
        try:
            for i, chunk in enumerate(self.chunks):
                if self.before is not None:
                    self.before(i)
                if callback(chunk):
                    self.stopped_at = i
                    return None
        finally:
            self.done.set()
        return None


@pytest.fixture
def llama(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeLlama]:
    """Put a FakeLlama where the loaded llama.cpp server would be."""
    def install(**kwargs: Any) -> FakeLlama:
        fake = FakeLlama(**kwargs)
        monkeypatch.setattr(local_model._POOL, "get", lambda config, show_progress: fake)
        return fake
    return install


def _local() -> LocalChatModel:
    return LocalChatModel(model_path="/nowhere/model.gguf", seed=7, max_tokens=64, show_progress=False)


def _joined(chunks: list[AIMessageChunk]) -> AIMessageChunk:
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def _same_call(a: Any, b: Any) -> bool:
    """Two CallUsage records alike in all but the seconds."""
    return all(getattr(a, f.name) == getattr(b, f.name) for f in fields(a) if f.name != "seconds")


def test_local_stream_joins_to_the_invoke_text_with_the_same_request_and_usage(llama: Any) -> None:
    fake = llama()
    chat = _local()
    reply = chat.invoke(PROMPT, stop=["```"])
    with get_usage_metadata_callback() as counted:
        chunks = list(chat.stream(PROMPT, stop=["```"]))
    assert "".join(c.text for c in chunks) == reply.text == "".join(PIECES)
    assert [c.text for c in chunks if c.text] == PIECES  # piece by piece, not all at the end
    assert sum(1 for c in chunks if c.usage_metadata) == 1  # usage on one chunk: counted once
    streamed = _joined(chunks)
    assert streamed.usage_metadata == reply.usage_metadata
    assert list(counted.usage_metadata.values())[0]["input_tokens"] == 40  # not 80
    whole = UsageTracker().record("a", PROMPT, reply, 1.0)
    assert _same_call(UsageTracker().record("a", PROMPT, streamed, 1.0), whole)
    assert (whole.prompt_n, whole.cache_n, whole.tokens_per_s) == (12, 28, 14.0)
    (plain, plain_callback), (stream, stream_callback) = fake.requests
    assert not plain_callback and "stream" not in plain  # invoke does not switch to streaming
    assert stream_callback
    assert stream == {**plain, "stream": True, "stream_options": {"include_usage": True}}
    assert plain["stop"] == ["```"] and plain["seed"] == 7


def test_local_stream_stopped_by_its_reader_stops_llama_cpp(llama: Any) -> None:
    reader_gone = threading.Event()
    fake = llama(before=lambda i: reader_gone.wait(5) if i == 3 else None)
    stream = cast(Generator[AIMessageChunk, None, None], _local().stream(PROMPT))
    assert next(stream).text == PIECES[0]
    stream.close()  # the reader stops (Ctrl-C, a closed pipe)
    reader_gone.set()
    assert fake.done.wait(5)
    assert fake.stopped_at == 3  # the next chunk's callback answered True: llama.cpp stops there


@pytest.mark.parametrize(
    ("fake_args", "words"),
    [
        ({"chunks": [_chunk({"content": "x"}), {"error": {"code": 400, "message": "exceeds the context"}}]},
         "returned an error"),
        ({"chunks": [{"error": {"code": 500, "message": "slot unavailable"}}]}, "slot unavailable"),
        ({"chunks": _llama_chunks(finished=False)}, "before the end of its reply"),
        ({"fail": RuntimeError("llama.cpp failed\nbadly")}, "the embedded model failed"),
    ],
)
def test_a_broken_local_stream_is_one_line_model_error(llama: Any, fake_args: dict[str, Any], words: str) -> None:
    llama(**fake_args)
    with pytest.raises(ModelError) as caught:
        list(_local().stream(PROMPT))
    message = str(caught.value)
    assert words in message and "\n" not in message


# --------------------------------------------------------------------------- the server path


def _sse(chunks: list[Any], done: bool = True) -> bytes:
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + ("data: [DONE]\n\n" if done else "")
    return body.encode()


def _chunked(body: bytes, cut: bool = False) -> bytes:
    """A 200 event stream sent chunked; ``cut``: the connection closes before the closing chunk."""
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n")
    if cut:  # the first half, announced as the whole: the peer closes mid-chunk
        return head + f"{len(body):x}\r\n".encode() + body[: len(body) // 2]
    return head + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"


def _server_answer(stream_body: Callable[[], bytes]) -> Callable[[str, str, bytes], bytes]:
    """A whole completion to a plain request, ``stream_body()`` to a streamed one."""
    def answer(_method: str, _path: str, body: bytes) -> bytes:
        if json.loads(body or b"{}").get("stream"):
            return stream_body()
        message = {"role": "assistant", "content": "".join(PIECES)}
        completion = {"id": "c1", "object": "chat.completion", "created": 1, "model": "m", "usage": USAGE,
                      "timings": TIMINGS, "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
        return http_response(200, json.dumps(completion).encode())
    return answer


def _server(url: str) -> ServerChatModel:
    return ServerChatModel(model="m", base_url=url, api_key=SecretStr("x"), max_retries=0, timeout=10, stream_usage=True)


def test_server_stream_joins_to_the_invoke_text_with_usage_and_timings() -> None:
    with raw_server(_server_answer(lambda: _chunked(_sse(_llama_chunks())))) as url:
        chat = _server(url)
        reply = chat.invoke(PROMPT)
        chunks = list(chat.stream(PROMPT))
    assert "".join(c.text for c in chunks) == reply.text == "".join(PIECES)
    streamed = _joined(chunks)
    assert streamed.usage_metadata is not None and reply.usage_metadata is not None
    assert streamed.usage_metadata["input_tokens"] == reply.usage_metadata["input_tokens"] == 40
    assert streamed.response_metadata["timings"] == TIMINGS == reply.response_metadata["timings"]
    assert _same_call(UsageTracker(model_name="m").record("a", PROMPT, streamed, 1.0),
                      UsageTracker(model_name="m").record("a", PROMPT, reply, 1.0))


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (lambda: _chunked(_sse(_llama_chunks()), cut=True), "stopped sending the reply before its end"),
        (lambda: _chunked(_sse(_llama_chunks(finished=False), done=False)), "stopped sending the reply"),
        (lambda: _chunked(b"data: {not json\n\n"), "not an OpenAI chat completion"),
        (lambda: _chunked(_sse([{"error": {"message": "slot crashed"}}])), "slot crashed"),
    ],
)
def test_a_broken_server_stream_is_one_line_model_error(body: Callable[[], bytes], words: str) -> None:
    got: list[str] = []
    with raw_server(_server_answer(body)) as url, pytest.raises(ModelError) as caught:
        for chunk in _server(url).stream(PROMPT):
            got.append(chunk.text)
    message = str(caught.value)
    assert words in message, message
    assert "\n" not in message and len(message) < 400
    assert "".join(got) in "".join(PIECES)  # what came before the break was the reply's start


# --------------------------------------------------------------------------- answer_question


class NoIndex:
    """A collection with nothing in it: the answer is asked with no excerpts."""

    def count(self) -> int:
        return 0


def _fake(text: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(text)]))


def test_answer_question_hands_out_the_answer_as_written_and_times_the_first_token() -> None:
    pieces: list[str] = []
    result = answer_question(NoIndex(), "What is it?", _fake("  It adds tax.\nTwice. "), on_text=pieces.append)
    assert len([p for p in pieces if p.strip()]) == 4  # word by word
    assert "".join(pieces).strip() == result.answer == "It adds tax.\nTwice."
    assert 0 <= result.timings[FIRST_TOKEN] <= result.timings["answer"]


def test_answer_question_without_a_reader_calls_the_model_once_unstreamed() -> None:
    class Once(GenericFakeChatModel):
        def _stream(self, *args: Any, **kwargs: Any) -> Iterator[Any]:  # pragma: no cover - must not run
            raise AssertionError("streamed")

    result = answer_question(NoIndex(), "What is it?", Once(messages=iter([AIMessage(" It adds tax. ")])))
    assert result.answer == "It adds tax." and FIRST_TOKEN not in result.timings


def test_a_model_that_cannot_stream_still_answers_through_on_text() -> None:
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel

    pieces: list[str] = []
    chat = FakeMessagesListChatModel(responses=[AIMessage("All at once.")])
    result = answer_question(NoIndex(), "What?", chat, on_text=pieces.append)
    assert pieces == ["All at once."] and result.answer == "All at once."
    assert isinstance(result.timings[FIRST_TOKEN], float)
