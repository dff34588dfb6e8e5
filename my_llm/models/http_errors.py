"""What went wrong with an OpenAI-compatible server, in one line that names the fix.

The OpenAI client (under LangChain's ``ChatOpenAI``) already retries connection failures, 429 and
5xx answers with exponential backoff and honours ``Retry-After``; what reaches us is the last
failure. Real servers differ in how they say the same thing (llama.cpp, vLLM, Ollama, OpenAI), so
the patterns below cover each one's wording.
"""

from __future__ import annotations

import re
from typing import Any

import openai

# Parameters a server may refuse that the tools can do without (sent again without them).
OPTIONAL_PARAMS = ("seed", "stop")

_REFUSAL_WORDS = re.compile(
    r"unsupported|not supported|unrecognized|unknown|not allowed|not permitted|extra inputs|"
    r"extra_forbidden|invalid|does not support",
    re.IGNORECASE,
)
_CONTEXT_PATTERNS = (
    # llama.cpp: {"type": "exceed_context_size_error", "n_prompt_tokens": N, "n_ctx": M}
    re.compile(r"exceed(?:s|_context_size)", re.IGNORECASE),
    # vLLM / OpenAI: "This model's maximum context length is 2048 tokens. However, you requested ..."
    re.compile(r"maximum context length|context_length_exceeded|context window|too many tokens", re.IGNORECASE),
)


def _url(exc: BaseException) -> str | None:
    """Scheme, host and port the failed request went to, when the exception knows."""
    request = getattr(exc, "request", None)
    if request is None and getattr(exc, "response", None) is not None:
        request = getattr(exc.response, "request", None)  # type: ignore[union-attr]
    try:
        url = request.url if request is not None else None
    except RuntimeError:  # a response built without a request
        url = None
    return None if url is None else f"{url.scheme}://{url.netloc.decode()}"


def server_url(exc: BaseException) -> str:
    """"the model server at http://host:port", or "the model server" when unknown."""
    url = _url(exc)
    return f"the model server at {url}" if url else "the model server"


def _body_error(exc: openai.APIStatusError) -> dict[str, Any]:
    """The server's error object, whichever shape it used (`{"error": {...}}` or flat)."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        return inner if isinstance(inner, dict) else {"message": str(inner)}
    return {"message": str(body) if body else ""}


def _message(exc: openai.APIStatusError) -> str:
    error = _body_error(exc)
    text = str(error.get("message") or exc.message or "")
    return " ".join(text.split())[:200]


def refused_param(exc: BaseException) -> str | None:
    """`seed` or `stop` when the server refused the request because of that parameter."""
    if not isinstance(exc, openai.BadRequestError | openai.UnprocessableEntityError):
        return None
    error = _body_error(exc)
    text = f"{error.get('param') or ''} {error.get('message') or exc.message}"
    if not _REFUSAL_WORDS.search(text):
        return None
    for name in OPTIONAL_PARAMS:
        if error.get("param") == name or re.search(rf"['\"`]?\b{name}\b['\"`]?", text):
            return name
    return None


def context_exceeded(exc: BaseException) -> str | None:
    """One line for a request longer than the server's context window, else None."""
    if not isinstance(exc, openai.BadRequestError | openai.UnprocessableEntityError):
        return None
    error = _body_error(exc)
    text = f"{error.get('type') or ''} {error.get('code') or ''} {error.get('message') or exc.message}"
    if not any(p.search(text) for p in _CONTEXT_PATTERNS):
        return None
    sizes = ""
    if isinstance(error.get("n_prompt_tokens"), int) and isinstance(error.get("n_ctx"), int):
        sizes = f" ({error['n_prompt_tokens']} prompt tokens, {error['n_ctx']} in its window)"
    return (f"the request does not fit {server_url(exc)}'s context window{sizes}: start the server with a larger "
            "context (my-llm serve --ctx N, llama-server --ctx-size, Ollama num_ctx / OLLAMA_CONTEXT_LENGTH)")


def _transport_errors(exc: BaseException) -> set[str]:
    """Class names of the transport errors under the client's wrappers.

    LangChain wraps the OpenAI client's exception, which wraps the HTTP library's; the OpenAI
    client uses its own copy of httpx (``httpx2``), so the names are compared, not the classes.
    """
    names: set[str] = set()
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        names.update(cls.__name__ for cls in type(current).__mro__)
        current = current.__cause__ or current.__context__
    return names


def _connection(exc: openai.APIConnectionError) -> str:
    where = server_url(exc)
    causes = _transport_errors(exc)
    if isinstance(exc, openai.APITimeoutError) or "TimeoutException" in causes:
        return f"{where} did not answer in time: it may be overloaded; try again, or with fewer --jobs"
    if "ConnectError" in causes:
        return (f"nothing answers at {_url(exc) or 'the model server address'} (connection refused): start "
                "the server (my-llm serve) or check --base-url / MY_LLM_BASE_URL / OPENAI_BASE_URL")
    if causes & {"RemoteProtocolError", "ReadError"}:
        return (f"{where} closed the connection without an answer (it stopped or crashed): "
                "restart it and run again")
    return f"cannot reach {where}: check --base-url / MY_LLM_BASE_URL and that the server runs"


def explain(exc: BaseException, tries: int | None = None, models: list[str] | None = None) -> str | None:
    """One line for an OpenAI-client failure, or None when it is not one.

    ``tries`` is how many times the request was sent (retries included); ``models`` the names the
    server lists, so a wrong model name can be answered with the right ones.
    """
    times = f" ({tries} tries)" if tries and tries > 1 else ""
    where = server_url(exc)
    if isinstance(exc, openai.APIConnectionError):
        return _connection(exc) + (f"{times}" if times else "")
    if not isinstance(exc, openai.APIStatusError):
        return None
    status = exc.status_code
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return f"{where} refused the API key ({status}): set OPENAI_API_KEY to the key the server expects"
    if isinstance(exc, openai.NotFoundError):
        known = f": it serves {', '.join(models)}; use --model openai:{models[0]}" if models else ""
        return f"{where} has no such model or endpoint ({_message(exc) or status}){known}"
    if isinstance(exc, openai.RateLimitError):
        return (f"{where} kept answering 429 (rate limited or out of quota){times}: wait and run again, "
                "use fewer --jobs, or check your plan")
    if status >= 500:
        return f"{where} failed with HTTP {status}{times}: {_message(exc) or 'no details'}; check its log"
    context = context_exceeded(exc)
    if context:
        return context
    param = refused_param(exc)
    if param:
        return f"{where} does not accept the parameter `{param}`: {_message(exc)}"
    return f"{where} answered {status}: {_message(exc) or 'no details'}"


def truncation(prompt_estimate: int, prompt_reported: int, where: str) -> str | None:
    """A prompt the server silently cut (Ollama's 2048-token default does), judged by its usage.

    Our estimate counts 4 characters a token; real tokenisers give code about 1.2 times that and
    English prose about as many, so a server that counts under 70% of it dropped part of the request.
    """
    if prompt_estimate < 256 or prompt_reported <= 0 or prompt_reported >= 0.7 * prompt_estimate:
        return None
    return (f"{where} used {prompt_reported} prompt tokens of a request of about {prompt_estimate}: it cut the "
            "prompt to fit a small context window; start it with a larger one (Ollama: num_ctx or "
            "OLLAMA_CONTEXT_LENGTH; llama-server: --ctx-size; my-llm serve: --ctx)")
