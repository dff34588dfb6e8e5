"""``my-llm serve``: one loaded model, many clients, over llama.cpp's own OpenAI-compatible server.

Every tool that runs the embedded model in-process loads its own copy, and two copies on one
machine fight over its cores. xllamacpp's ``Server`` is llama.cpp's HTTP server (``/v1/models``,
``/v1/chat/completions`` with usage, seed, stop, max_tokens, temperature and streaming, parallel
slots, the prompt cache), so this module only chooses the model, checks the address, shows the
load and stops it cleanly; it writes no HTTP layer of its own.
"""

from __future__ import annotations

import argparse
import errno
import faulthandler
import ipaddress
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from my_llm.errors import ModelError, MyLLMError
from my_llm.models.model_tiers import LOCAL_FILE_PROFILE

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
STOP_SECONDS = 15  # at most this long to stop after Ctrl-C
DEFAULT_MAX_TOKENS = 1024  # a request without max_tokens: as the in-process model's default

_err = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass(frozen=True)
class ServeOptions:
    spec: str = "local"
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    parallel: int | None = None  # None: the tier's profile
    ctx: int | None = None  # tokens per slot; None: the tier's profile
    api_key: str | None = None
    threads: int = max(1, min(os.cpu_count() or 2, 8))


def add_parser(sub: Any) -> None:
    """The ``serve`` subcommand's options (registered by `my_llm.cli`)."""
    p = sub.add_parser("serve", help="serve the embedded model over an OpenAI-compatible HTTP API")
    p.add_argument("--model", default="local", help="local (default), local:0.5b, local:1.5b or local:PATH.gguf")
    p.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default %(default)s; any other "
                   "needs --api-key)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default %(default)s; 0: any free port)")
    p.add_argument("--parallel", type=int, default=None, help="requests served at once (default: the model's "
                   "profile, 2)")
    p.add_argument("--ctx", type=int, default=None, help="context tokens per request slot (default: 8192)")
    p.add_argument("--api-key", default=os.environ.get("MY_LLM_API_KEY") or None,
                   help="key every request must carry as 'Authorization: Bearer KEY' (default $MY_LLM_API_KEY)")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_options(opts: ServeOptions) -> None:
    """Refuse what cannot work or is unsafe, before anything is loaded."""
    if not 0 <= opts.port <= 65535:
        raise MyLLMError(f"--port must be between 0 and 65535, got {opts.port}")
    if opts.parallel is not None and not 1 <= opts.parallel <= 16:
        raise MyLLMError(f"--parallel must be between 1 and 16, got {opts.parallel}")
    if opts.ctx is not None and not 512 <= opts.ctx <= 131072:
        raise MyLLMError(f"--ctx must be between 512 and 131072, got {opts.ctx}")
    if not is_loopback(opts.host) and not opts.api_key:
        raise MyLLMError(f"--host {opts.host} opens the model to other machines: give --api-key KEY (or "
                         "MY_LLM_API_KEY) too, and clients OPENAI_API_KEY=KEY")
    if opts.spec.partition(":")[0].lower() != "local":
        raise MyLLMError(f"my-llm serve runs a model here: use --model local, local:0.5b, local:1.5b or "
                         f"local:PATH.gguf, not {opts.spec!r}")


def check_port(host: str, port: int) -> None:
    """A one-line error for an address in use or not ours, before the model is loaded."""
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise MyLLMError(f"cannot listen on {host}: not a known address ({exc.strerror})") from exc
    family, _, _, _, address = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as llama.cpp's server binds
        try:
            probe.bind(address)
        except OSError as exc:
            raise MyLLMError(_bind_error(host, port, exc)) from exc


def _bind_error(host: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} on {host} is in use (another my-llm serve?): stop it, point the tools at it, "
                "or choose another port with --port")
    if exc.errno == errno.EACCES:
        return f"no permission to listen on port {port}: use a port above 1023"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine: use 127.0.0.1, or 0.0.0.0 with --api-key"
    return f"cannot listen on {host}:{port}: {exc.strerror}"


def model_for(spec: str, show_progress: bool = True) -> tuple[str, Any, str]:
    """(GGUF path, tier or None, the name clients see in /v1/models) for a ``local`` spec."""
    from my_llm.models.factory import _local_file

    name = spec.partition(":")[2]
    path, tier = _local_file(name, show_progress)
    if not name or tier is not None and name.strip().lower() == tier.name:
        alias = spec.strip().lower()
    else:
        alias = f"local:{Path(path).name}"
    return path, tier, alias


HTTP_THREADS = 64


def build_params(opts: ServeOptions, path: str, tier: Any, alias: str) -> Any:
    """llama.cpp's parameters: the in-process model's, plus address, key, name and slots."""
    from my_llm.models.local_model import ServerConfig, server_params

    profile = tier.profile if tier is not None else LOCAL_FILE_PROFILE
    parallel = opts.parallel or profile.n_parallel
    config = ServerConfig(path, opts.ctx or profile.n_ctx, parallel, opts.threads, profile.speculative,
                          None, profile.draft_max)
    params = server_params(config)
    params.hostnames = [opts.host]
    params.port = opts.port
    params.api_keys = [opts.api_key] if opts.api_key else []
    params.model_alias = {alias}
    params.n_predict = DEFAULT_MAX_TOKENS
    params.ui = False  # an API for tools; no web page
    params.endpoint_slots = True  # GET /slots: what each slot is doing
    params.endpoint_metrics = True  # GET /metrics: requests and tokens served, for monitoring
    # An open connection holds one HTTP thread; llama.cpp's default pool (cores - 1, at least the
    # slots + 2: 4 here) let four keep-alive clients starve the others and the tools' /health probe.
    params.n_threads_http = HTTP_THREADS
    return params


def load(params: Any, label: str, host: str, port: int, show_progress: bool = True) -> Any:
    """Load the model and start listening, with a spinner and the time it takes."""
    import xllamacpp

    columns = (SpinnerColumn(), TextColumn(f"Loading {label} ..."), TimeElapsedColumn())
    with Progress(*columns, console=_err, transient=True, disable=not show_progress):
        try:
            return xllamacpp.Server(params)
        except RuntimeError as exc:
            check_port(host, port)  # lost a race for the port: say so
            raise ModelError(f"llama.cpp could not load {params.model.path} (not a valid GGUF file, or "
                             "truncated): delete it or point --model local:PATH at a valid GGUF") from exc


def wait_for_signal() -> None:
    """Block until Ctrl-C or SIGTERM.

    llama.cpp installs its own SIGINT/SIGTERM handlers while it starts (they would stop its loop
    and leave this process waiting); ours replace them, and the caller then releases the server
    object, whose destructor stops the loop and the listener and joins the serving thread.
    """
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def listening_url(server: Any, opts: ServeOptions) -> str:
    """The base URL clients use: the port the server really bound (``--port 0`` picks one)."""
    address = str(getattr(server, "listening_address", "") or "")
    port = address.rsplit(":", 1)[-1].strip("/") if address else ""
    host = opts.host if ":" not in opts.host else f"[{opts.host}]"
    if host in ("0.0.0.0", "[::]"):
        host = socket.gethostname()
    return f"http://{host}:{port if port.isdigit() else opts.port}/v1"


def serve(opts: ServeOptions, show_progress: bool = True) -> int:
    """Check, load, serve until Ctrl-C or SIGTERM, stop; 0 when stopped that way."""
    check_options(opts)
    check_port(opts.host, opts.port)
    path, tier, alias = model_for(opts.spec, show_progress)
    params = build_params(opts, path, tier, alias)
    label = tier.label if tier is not None else Path(path).name
    started = time.monotonic()
    server = load(params, label, opts.host, opts.port, show_progress)
    url = listening_url(server, opts)
    _err.print(f"Serving {label} as [bold]{alias}[/bold] at [bold]{url}[/bold] ({params.n_parallel} requests at "
               f"once, {params.n_ctx // params.n_parallel} tokens each; loaded in {time.monotonic() - started:.1f} s)")
    key_hint = " OPENAI_API_KEY=<the key>" if opts.api_key else ""
    _err.print(f"Point the tools at it:  export MY_LLM_BASE_URL={url}{key_hint}   (Ctrl-C stops it)")
    print(url, flush=True)  # stdout: the address alone, for scripts
    wait_for_signal()
    busy = in_flight(server)
    if busy != 0:
        # llama.cpp's stop waits for every running request, which waits for a loop that has stopped:
        # with requests in flight the process ends here, and their clients see the connection close.
        _err.print(f"Stopped; {busy if busy is not None else 'the'} request(s) in flight were cut off.")
        sys.stderr.flush()
        sys.stdout.flush()
        os._exit(0)
    _err.print("Stopping ...")
    # A C-level watchdog (it needs no Python thread): a stop stuck on a request that came in just
    # now ends the process anyway.
    faulthandler.dump_traceback_later(STOP_SECONDS, exit=True)
    del server  # the only reference: llama.cpp stops its loop and listener here
    faulthandler.cancel_dump_traceback_later()
    _err.print("Stopped.")
    return 0


def in_flight(server: Any) -> int | None:
    """Requests the server is working on, from its own metrics (None: it did not say)."""
    try:
        text = server.handle_metrics()
    except Exception:  # noqa: BLE001 - a figure for a decision at exit, never worth failing for
        return None
    for line in str(text).splitlines():
        if line.startswith("llamacpp:requests_processing"):
            try:
                return int(float(line.split()[-1]))
            except ValueError:
                return None
    return None


def run(args: argparse.Namespace) -> int:
    """``my-llm serve`` from parsed arguments."""
    opts = ServeOptions(args.model, args.host, args.port, args.parallel, args.ctx, args.api_key)
    return serve(opts)
