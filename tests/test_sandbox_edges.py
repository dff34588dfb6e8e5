"""The sandbox's edges: what the code under test can write, reach and read outside its folder.

Writes to the world-writable folders (/tmp, /var/tmp, /run/lock, /dev/shm) must not outlive
the run, Unix sockets of the host must be unreachable, and the user's files (the home, the
folder the tool runs in, this project) must not be readable. These need a mount namespace;
where the platform has none the tests are skipped and say so.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from code_generation.sandbox import isolation, runner
from code_generation.sandbox.runner import SandboxLimits, SandboxResult, run_tests

LIMITS = SandboxLimits(timeout=20)
PROJECT = Path(__file__).resolve().parent.parent


def run(test_body: str) -> SandboxResult:
    source = "import os, socket\nfrom edge import VALUE\n\n" + textwrap.dedent(test_body)
    return run_tests("VALUE = 1\n", "edge", source, "test_edge.py", limits=LIMITS)


def note(result: SandboxResult, prefix: str) -> str:
    return next((n for n in result.isolation if n.startswith(prefix)), "")


@pytest.fixture(autouse=True)
def mount_namespace() -> None:
    if not isolation.plan_for(False).mount_ns:
        pytest.skip("this platform offers no mount namespace (unshare --mount): the sandbox cannot hide "
                    "or discard files here, and says so in its notes")


@contextlib.contextmanager
def outside_folder() -> Iterator[Path]:
    """A world-readable folder of the host outside /tmp and the home: what a user's project looks like."""
    for base in ("/mnt", "/srv", "/opt", str(Path.home())):
        if os.access(base, os.W_OK):
            break
    else:
        pytest.skip("no writable folder outside /tmp to put the host's files in")
    folder = Path(tempfile.mkdtemp(prefix="sandbox-edge-", dir=base))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


SCRATCH = ["/tmp", "/var/tmp", "/run/lock", "/dev/shm"]


def test_writes_to_shared_folders_do_not_persist() -> None:
    marker = f"sandbox-edge-{os.getpid()}"
    targets = [f"{d}/{marker}" for d in SCRATCH if os.path.isdir(d)]
    try:
        result = run(f'''
            def test_write():
                written = []
                for path in {targets!r}:
                    with open(path, "wb") as fh:
                        fh.write(b"x" * 1024 * 1024)
                    written.append(path)
                assert written == {targets!r}
        ''')
        assert result.success, (result.cases, result.message)
        for path in targets:
            assert not os.path.exists(path), f"{path} outlived the sandbox"
        assert "private root" in note(result, "filesystem:")
    finally:
        for path in targets:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def test_filling_a_shared_folder_stops_at_the_sandbox_limit() -> None:
    result = run('''
        def test_fill():
            size = 0
            try:
                with open("/run/lock/fill", "wb") as fh:
                    while size < 4 * 1024 ** 3:
                        fh.write(b"x" * (1 << 20))
                        size += 1 << 20
            except OSError as exc:
                print("stopped at", size >> 20, "MiB:", exc.strerror)
                return
            raise AssertionError("wrote 4 GiB")
    ''')
    assert result.success, (result.cases, result.message, result.stdout)
    assert "stopped at" in result.stdout
    assert not os.path.exists("/run/lock/fill")


def _listen(path: str) -> tuple[socket.socket, list[bytes]]:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    os.chmod(path, 0o777)  # anyone may connect who can see it
    server.listen(4)
    server.settimeout(0.2)
    got: list[bytes] = []

    def serve() -> None:
        while server.fileno() != -1:
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            got.append(conn.recv(100))
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return server, got


def test_host_unix_sockets_are_unreachable() -> None:
    with outside_folder() as folder:
        paths = [str(folder / "service.sock"), f"/run/lock/sandbox-edge-{os.getpid()}.sock"]
        servers = [_listen(p) for p in paths]
        abstract_name = f"\0sandbox-edge-{os.getpid()}"
        abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        abstract.bind(abstract_name)
        abstract.listen(1)
        try:
            # The host itself can connect: the sockets work.
            with socket.socket(socket.AF_UNIX) as probe:
                probe.connect(paths[0])
            result = run(f'''
                def test_connect():
                    reached = []
                    for address in {[*paths, abstract_name]!r}:
                        with socket.socket(socket.AF_UNIX) as client:
                            try:
                                client.connect(address)
                                client.sendall(b"from the sandbox")
                                reached.append(address)
                            except OSError:
                                pass
                    assert reached == [], reached
            ''')
            assert result.success, (result.cases, result.message)
            assert all(b"from the sandbox" not in b"".join(got) for _, got in servers)
        finally:
            for server, _ in servers:
                server.close()
            abstract.close()
            for path in paths:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)


def test_user_files_are_not_readable(monkeypatch: pytest.MonkeyPatch) -> None:
    with outside_folder() as folder:
        (folder / "secret.txt").write_text("the user's own file")
        (folder / "secret.txt").chmod(0o644)
        home_file = Path.home() / f".sandbox-edge-{os.getpid()}"
        home_file.write_text("in the home")
        monkeypatch.chdir(folder)  # the tool runs in the user's folder, next to their tests
        targets = [str(folder / "secret.txt"), str(home_file), str(PROJECT / "README.md"), str(Path(__file__).resolve()),
                   "/work/shared/DESIGN.md"]
        assert all(os.path.exists(t) for t in targets[:4])
        try:
            result = run(f'''
                def test_read():
                    readable = []
                    for path in {targets!r}:
                        try:
                            with open(path) as fh:
                                fh.read()
                            readable.append(path)
                        except OSError:
                            pass
                    assert readable == [], readable
                    assert not os.path.exists({str(folder)!r})
            ''')
            assert result.success, (result.cases, result.message)
        finally:
            home_file.unlink()


def test_python_installation_is_read_only() -> None:
    folders = sorted({os.path.realpath(os.path.dirname(os.__file__)), os.path.realpath(sys.prefix)})
    result = run(f'''
        def test_install():
            for folder in {folders!r}:
                try:
                    with open(os.path.join(folder, "sandbox-edge.txt"), "w"):
                        pass
                except OSError:
                    continue
                raise AssertionError(folder + " is writable")
    ''')
    assert result.success, (result.cases, result.message)


def test_without_a_private_root_masks_still_discard_and_hide(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback when the new root cannot be built: tmpfs over the shared and private folders."""
    monkeypatch.setattr(runner, "PRIVATE_ROOT", False)
    marker = f"sandbox-edge-mask-{os.getpid()}"
    targets = [f"{d}/{marker}" for d in SCRATCH if os.path.isdir(d)]
    home_file = Path.home() / f".{marker}"
    home_file.write_text("in the home")
    try:
        result = run(f'''
            def test_mask():
                for path in {targets!r}:
                    with open(path, "w") as fh:
                        fh.write("x")
                assert not os.path.exists({str(home_file)!r})
                assert os.listdir("/run") == ["lock"]
        ''')
        assert result.success, (result.cases, result.message)
        assert "tmpfs over" in note(result, "filesystem:")
        assert not any(os.path.exists(t) for t in targets)
    finally:
        home_file.unlink()
        for path in targets:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
