"""Shared fixtures: a real Pub/Sub emulator and a real Chroma server, started per test run.

Both run in their own process group and only those groups are stopped. When
gcloud (or its emulator) or the chroma CLI is missing, tests that need them
are skipped with the reason; when the environment variable CI is set, that
absence is a failure instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

STARTUP_SECONDS = 60.0

# The property tests (tests/test_fuzz_*.py): ``ci`` (the default) is a bounded, repeatable gate;
# ``long`` (HYPOTHESIS_PROFILE=long, or benchmarks/fuzz.py) runs ten times the examples from fresh
# seeds and keeps what fails in .pytest_cache/hypothesis, where the next run tries it first.
_FUZZ_COMMON = {"deadline": None, "print_blob": True,
                "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("ci", max_examples=100, derandomize=True, database=None, **_FUZZ_COMMON)
settings.register_profile(
    "long", max_examples=1000,
    database=DirectoryBasedExampleDatabase(str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "hypothesis")),
    **_FUZZ_COMMON,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def missing(reason: str) -> None:
    """Skip, or fail under CI where every tool must be installed."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required when CI is set)")
    pytest.skip(reason)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


class ServiceProcess:
    """A server we start in its own process group, so stopping it stops its children too."""

    def __init__(self, argv: list[str], ready_url: str, log_path: Path) -> None:
        self.argv = argv
        self.ready_url = ready_url
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-800:]
                raise RuntimeError(f"{self.argv[0]} exited early:\n{tail}")
            if _http_ok(self.ready_url):
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.argv[0]} not ready after {STARTUP_SECONDS:.0f}s")

    def stop(self) -> None:
        """SIGTERM our process group, then SIGKILL whatever is left of it after 10 s."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)  # our own group: the gcloud wrapper and its java child
            except ProcessLookupError:
                break
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _group_alive(proc):
                time.sleep(0.1)
            if not _group_alive(proc):
                break
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def _group_alive(proc: subprocess.Popen[bytes]) -> bool:
    proc.poll()  # reap the leader so it does not linger as a zombie
    try:
        os.killpg(proc.pid, 0)
    except ProcessLookupError:
        return False
    return True


class PubSubEmulator(ServiceProcess):
    """``gcloud beta emulators pubsub start`` on a free loopback port."""

    def __init__(self, workdir: Path) -> None:
        gcloud = shutil.which("gcloud")
        if gcloud is None:
            missing("gcloud is not installed: the Pub/Sub emulator tests need it")
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        data_dir = workdir / "pubsub-data"
        data_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(
            [
                str(gcloud),
                "beta",
                "emulators",
                "pubsub",
                "start",
                f"--host-port={self.host}",
                f"--data-dir={data_dir}",
                "--quiet",
            ],
            f"http://{self.host}/",
            workdir / "pubsub-emulator.log",
        )


class ChromaServer(ServiceProcess):
    """``chroma run`` on a free loopback port."""

    def __init__(self, workdir: Path) -> None:
        local = Path(sys.executable).parent / "chroma"
        chroma = str(local) if local.exists() else shutil.which("chroma")
        if chroma is None:
            missing("the chroma CLI is not installed: the Chroma server test needs it")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        super().__init__(
            [
                str(chroma),
                "run",
                "--path",
                str(workdir / "chroma-server-data"),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            f"{self.url}/api/v2/heartbeat",
            workdir / "chroma-server.log",
        )


def _start_or_skip(service: ServiceProcess, what: str) -> None:
    try:
        service.start()
    except RuntimeError as exc:
        missing(f"{what} did not start: {str(exc)[:300]}")


@pytest.fixture(scope="session")
def pubsub_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PubSubEmulator]:
    """One emulator for the session; tests that stop it use ``pubsub_emulator_factory``."""
    emulator = PubSubEmulator(tmp_path_factory.mktemp("pubsub"))
    _start_or_skip(emulator, "the Pub/Sub emulator")
    yield emulator
    emulator.stop()


@pytest.fixture
def pubsub_emulator_factory(tmp_path: Path) -> Iterator[type[PubSubEmulator]]:
    """Start private emulators (e.g. to stop one mid-test); all are stopped afterwards."""
    started: list[PubSubEmulator] = []

    def make() -> PubSubEmulator:
        emulator = PubSubEmulator(tmp_path / f"emulator{len(started)}")
        started.append(emulator)
        _start_or_skip(emulator, "the Pub/Sub emulator")
        return emulator

    yield make  # type: ignore[misc]
    for emulator in started:
        emulator.stop()


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"))
    _start_or_skip(server, "the Chroma server")
    yield server
    server.stop()


@pytest.fixture
def memory_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private MESSAGE_HISTORY with Pub/Sub and any Chroma server switched off."""
    root = tmp_path / "history"
    monkeypatch.setenv("MESSAGE_HISTORY", str(root))
    for name in (
        "PUBSUB_EMULATOR_HOST",
        "GOOGLE_CLOUD_PROJECT",
        "GCLOUD_PROJECT",
        "CHROMA_URL",
        "MY_LLM_CHROMA_URL",
        "MY_LLM_EMBEDDINGS",
        "MY_LLM_NAMESPACE",
    ):
        monkeypatch.delenv(name, raising=False)
    return root


@pytest.fixture(autouse=True)
def no_user_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's own config file or MY_LLM_* settings (my_llm/config.py)."""
    from my_llm import config

    monkeypatch.setenv(config.CONFIG_ENV, "")
    for name in ("MY_LLM_MODEL", "MY_LLM_BASE_URL", "MY_LLM_CANDIDATES", "MY_LLM_MAX_ITERATIONS",
                 "MY_LLM_HISTORY", "MY_LLM_CHROMA_URL", "MY_LLM_CHROMA_DB", "MY_LLM_CRATE_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    config.file_values.cache_clear()


@pytest.fixture(autouse=True)
def private_response_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own reply cache, so no test is answered by a reply an earlier run stored."""
    folder = tmp_path_factory.mktemp("responses")
    monkeypatch.setenv("MY_LLM_RESPONSE_CACHE", str(folder))
    return folder


@pytest.fixture(scope="session")
def rust_toolchain() -> object:
    """The Rust toolchain for the tests that run real cargo; without it they skip (fail under CI)."""
    from code_generation.languages.rust.cargo_runner import ToolchainError, find_toolchain

    try:
        return find_toolchain()
    except ToolchainError as exc:
        missing(f"the Rust toolchain is not installed: {exc}")
        raise


@pytest.fixture(scope="session")
def cargo_sandbox(rust_toolchain: object) -> Iterator[object]:
    """One cargo sandbox for the session without an offline crate source: the tests share its build
    folder, as the attempts of one run do, so each costs about one incremental build."""
    from code_generation.languages.rust.cargo_runner import CargoSandbox

    sandbox = CargoSandbox(source=None)
    yield sandbox
    sandbox.close()
