"""``my-llm serve`` without a model: its checks come before any loading, each as one line."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from my_llm.errors import MyLLMError
from my_llm.models.serve import (
    ServeOptions,
    build_params,
    check_options,
    check_port,
    listening_url,
    model_for,
)


def my_llm(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MY_LLM_", "OPENAI_"))}
    return subprocess.run([sys.executable, "-m", "my_llm.cli", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def assert_one_line(proc: subprocess.CompletedProcess[str], expected: str) -> None:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert "Loading" not in proc.stderr  # refused before the model was touched


def test_a_port_in_use_is_one_line_before_the_model_loads() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        proc = my_llm("serve", "--port", str(port))
    assert_one_line(proc, f"port {port} on 127.0.0.1 is in use")
    assert time.monotonic() - started < 30


def test_another_address_needs_an_api_key() -> None:
    assert_one_line(my_llm("serve", "--host", "0.0.0.0"), "--api-key")
    with pytest.raises(MyLLMError, match="--api-key"):
        check_options(ServeOptions(host="192.168.1.5"))
    check_options(ServeOptions(host="0.0.0.0", api_key="k"))  # with a key it may
    check_options(ServeOptions(host="localhost"))
    check_options(ServeOptions(host="::1"))


@pytest.mark.parametrize(("options", "expected"), [
    (ServeOptions(port=70000), "--port must be between 0 and 65535"),
    (ServeOptions(parallel=0), "--parallel must be between 1 and 16"),
    (ServeOptions(ctx=100), "--ctx must be between 512"),
    (ServeOptions(spec="openai:gpt-4o-mini"), "runs a model here"),
])
def test_bad_options_are_refused(options: ServeOptions, expected: str) -> None:
    with pytest.raises(MyLLMError, match=expected):
        check_options(options)


def test_an_address_that_is_not_ours_is_one_line() -> None:
    with pytest.raises(MyLLMError, match="not an address of this machine|not a known address"):
        check_port("203.0.113.7", 8080)  # TEST-NET-3: never a local address
    check_port("127.0.0.1", 0)  # any free port: nothing to check


def test_the_served_model_keeps_the_in_process_settings_plus_address_key_and_name(tmp_path: Path) -> None:
    gguf = tmp_path / "my-model.gguf"
    gguf.write_bytes(b"GGUF")
    path, tier, alias = model_for(f"local:{gguf}", show_progress=False)
    assert (path, tier, alias) == (str(gguf), None, "local:my-model.gguf")
    params = build_params(ServeOptions(host="127.0.0.1", port=9123, parallel=3, ctx=4096, api_key="k"), path, tier,
                          alias)
    assert (list(params.hostnames), params.port, list(params.api_keys)) == (["127.0.0.1"], 9123, ["k"])
    assert set(params.model_alias) == {"local:my-model.gguf"}
    assert (params.n_parallel, params.n_ctx, params.n_predict) == (3, 3 * 4096, 1024)
    assert params.cache_prompt and not params.ui


class _Bound:
    def __init__(self, address: str) -> None:
        self.listening_address = address


def test_the_url_printed_is_the_port_really_bound() -> None:
    assert listening_url(_Bound("http://127.0.0.1:41234"), ServeOptions(port=0)) == "http://127.0.0.1:41234/v1"
    assert listening_url(_Bound(""), ServeOptions(port=8080)) == "http://127.0.0.1:8080/v1"
    assert listening_url(_Bound("http://[::1]:9000"), ServeOptions(host="::1", port=9000)) == "http://[::1]:9000/v1"
