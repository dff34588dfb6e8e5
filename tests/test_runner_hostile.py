"""Tests for the sandbox runner against code that tries to hurt us.

The model's code is untrusted: it may loop, fork, hog memory, flood output, read secrets,
reach the network, write outside its folder or kill us. Every hostile test checks what the
sandbox reports *and* that nothing was left behind (processes, files, the temporary directory).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from code_generation.sandbox.runner import SandboxLimits, SandboxResult
from tests.runner_fixtures import ONE_TEST, case, run

HANG = SandboxLimits(timeout=3)


def living_processes(marker: str) -> list[int]:
    """Pids (not zombies) whose command line contains marker: leftovers of a sandbox."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in cmdline and state != "Z":
            found.append(int(entry))
    return found


def sandbox_dir(result: SandboxResult) -> Path:
    """The child prints its cwd as the first stdout line in the tests that need it."""
    workdir = Path(result.stdout.splitlines()[0].strip())
    assert workdir.name == "work" and workdir.parent.name.startswith("sandbox-"), result.stdout
    return workdir


def has_note(result: SandboxResult, text: str) -> bool:
    return any(text in note for note in result.isolation)


def test_infinite_loop_times_out_and_leaves_nothing() -> None:
    result = run('''
        import os

        def test_spin():
            print(os.getcwd(), flush=True)
            while True:
                pass
    ''', limits=HANG)
    assert result.status == "timeout"
    assert not result.success
    assert "test_spin" in result.message
    workdir = sandbox_dir(result)
    assert not workdir.parent.exists()
    assert living_processes(str(workdir.parent)) == []


def test_infinite_loop_at_import_times_out() -> None:
    result = run("import time\nwhile True:\n    time.sleep(0.1)\n", limits=HANG)
    assert result.status == "timeout"
    assert "importing" in result.message


def test_fork_bomb_is_contained() -> None:
    limits = SandboxLimits(timeout=15, max_processes=16)
    result = run('''
        import os, time, unittest

        class T(unittest.TestCase):
            def test_bomb(self):
                print(os.getcwd(), flush=True)
                n = 0
                try:
                    for _ in range(300):
                        if os.fork() == 0:
                            time.sleep(120)
                            os._exit(0)
                        n += 1
                except OSError as exc:
                    self.fail(f"fork refused after {n} children: {exc}")
                self.fail(f"unbounded: {n} children")
    ''', limits=limits)
    assert result.status == "ok", result.message
    msg = case(result, "T.test_bomb").message
    assert "fork refused after" in msg, msg
    children = int(msg.rsplit("fork refused after ", 1)[1].split()[0])
    assert children < 16
    workdir = sandbox_dir(result)
    assert living_processes(str(workdir.parent)) == []
    assert not workdir.parent.exists()


def test_real_fork_bomb_times_out_and_is_cleaned_up() -> None:
    result = run('''
        import os

        def test_bomb():
            print(os.getcwd(), flush=True)
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
    ''', limits=SandboxLimits(timeout=3, max_processes=24))
    assert result.status == "timeout"
    assert len(result.cases) == 0  # forked copies of the harness do not report
    workdir = sandbox_dir(result)
    time.sleep(0.2)
    assert living_processes(str(workdir.parent)) == []


def test_memory_hog_gets_memory_error() -> None:
    result = run('''
        def test_hog():
            block = bytearray(10 * 1024 ** 3)
            assert len(block) > 0

        def test_after():
            assert True
    ''', limits=SandboxLimits(timeout=20, memory_mb=512))
    assert result.status == "ok", result.message
    hog = case(result, "test_hog")
    assert hog.outcome == "error" and "MemoryError" in hog.message
    assert case(result, "test_after").outcome == "passed"
    assert not result.success


def test_huge_output_is_capped() -> None:
    limits = SandboxLimits(timeout=40, max_output_bytes=10_000)
    result = run('''
        import sys

        def test_flood():
            chunk = "x" * (1 << 20)
            for _ in range(1024):
                sys.stdout.write(chunk)
            sys.stderr.write("y" * 50_000)
    ''', limits=limits)
    assert result.status == "ok", result.message
    assert result.success
    assert len(result.stdout) < 11_000 and "bytes of output cut" in result.stdout
    assert len(result.stderr) < 11_000 and "bytes of output cut" in result.stderr


def test_secrets_in_environment_are_not_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", "/secret/creds.json")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-very-secret")
    monkeypatch.setenv("GITHUB_TOKEN", "gh-very-secret")
    monkeypatch.setenv("SOMETHING_ELSE", "unrelated")
    result = run('''
        import os

        def test_env():
            print(sorted(os.environ))
            for name in ("OPENAI_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS",
                         "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN", "SOMETHING_ELSE"):
                assert os.environ.get(name) is None, name
            assert os.environ["HOME"] == os.getcwd()
            assert os.environ["PYTHONHASHSEED"] == "0"
    ''')
    assert result.success, result.cases
    for secret in ("sk-very-secret", "aws-very-secret", "gh-very-secret", "/secret/creds.json"):
        assert secret not in result.stdout
    assert "OPENAI" not in result.stdout


@pytest.mark.parametrize("network", [False, True])
def test_network(network: bool) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        result = run(f'''
            import socket

            def test_connect():
                socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
        ''', limits=SandboxLimits(timeout=20, network=network))
    finally:
        server.close()
    assert result.status == "ok", result.message
    outcome = case(result, "test_connect").outcome
    if network:
        assert has_note(result, "network: allowed")
        assert outcome == "passed"
    elif has_note(result, "network: new namespace"):
        assert outcome == "error"
        assert "OSError" in case(result, "test_connect").message or "unreachable" in \
            case(result, "test_connect").message
    else:
        assert has_note(result, "network: NOT isolated")


def test_os_exit_at_import_is_a_crash() -> None:
    result = run(ONE_TEST, module_source="import os\nos._exit(0)\n")
    assert result.status == "crashed"
    assert not result.success
    assert result.exit_code == 0
    assert "without reporting results" in result.message and "importing" in result.message


def test_os_exit_in_a_test_keeps_earlier_results() -> None:
    result = run('''
        import os, unittest

        class T(unittest.TestCase):
            def test_a(self):
                pass

            def test_b(self):
                os._exit(0)

            def test_c(self):
                pass
    ''')
    assert result.status == "crashed"
    assert not result.success
    assert [c.name for c in result.cases] == ["T.test_a"]
    assert "T.test_b" in result.message


def test_sys_exit_at_import_is_not_success() -> None:
    result = run('''
        from prime_numbers import prime_sum

        def test_x():
            assert prime_sum(1) == 2
    ''', module_source="import sys\nsys.exit(0)\n")
    assert result.status == "crashed"
    assert not result.success
    assert "sys.exit(0)" in result.message and "prime_numbers.py" in result.message


def test_killing_the_parent_leaves_the_tool_alive() -> None:
    result = run('''
        import os, signal

        def test_kill():
            print(os.getcwd(), flush=True)
            os.kill(os.getppid(), signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)
    ''')
    assert result.status == "crashed"
    assert not result.success
    assert "test_kill" in result.message
    assert living_processes(str(sandbox_dir(result).parent)) == []
    assert run("def test_ok():\n    pass\n").success  # we are still here and still work


def test_writes_outside_the_sandbox_do_not_land(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    marker = f"sandbox-escape-{os.getpid()}-{time.monotonic_ns()}"
    targets = [Path("/tmp") / marker, Path.home() / marker, tmp_path / marker,
               Path(__file__).resolve().parent / marker]
    before = sorted(os.listdir(tmp_path))
    try:
        result = run(f'''
            import os

            def test_write():
                print(os.getcwd(), flush=True)
                for target in {[str(t) for t in targets]!r}:
                    try:
                        with open(target, "w") as fh:
                            fh.write("escaped")
                        print("wrote", target)
                    except OSError as exc:
                        print("refused", target, exc.strerror)
        ''')
        assert result.success, result.cases
        workdir = sandbox_dir(result)
        assert not workdir.parent.exists()
        assert sorted(os.listdir(tmp_path)) == before
        assert Path.cwd() == tmp_path
        if has_note(result, "user: dropped"):
            assert not (Path.home() / marker).exists()
            assert not targets[3].exists()
        if has_note(result, "filesystem: private tmpfs"):
            assert not (Path("/tmp") / marker).exists()
            assert not (tmp_path / marker).exists()
        if not has_note(result, "user: dropped") and not has_note(result, "filesystem: private"):
            pytest.skip("no privilege drop or mount namespace here: writes are not confined")
    finally:
        for target in targets:
            if target.exists():
                target.unlink()


def test_cpu_limit_is_reported_as_timeout() -> None:
    result = run('''
        def test_spin():
            while True:
                pass
    ''', limits=SandboxLimits(timeout=20, cpu_seconds=1))
    assert result.status == "timeout"
    assert "CPU time limit" in result.message


def test_isolation_notes_are_reported() -> None:
    result = run("def test_ok():\n    pass\n")
    assert result.success
    assert any(note.startswith("network:") for note in result.isolation)
    assert any(note.startswith("rlimits:") for note in result.isolation)
    if os.geteuid() == 0 and Path("/usr/bin/unshare").exists():
        # What this project's machines offer (DESIGN.md, "The sandbox").
        assert has_note(result, "network: new namespace")
        assert has_note(result, "processes: new PID namespace")
        assert has_note(result, "user: dropped to nobody")


def test_segfault_is_a_crash_named_by_signal() -> None:
    result = run('''
        import os, signal

        def test_segv():
            import ctypes
            ctypes.string_at(0)
    ''')
    assert result.status == "crashed"
    assert not result.success
    assert result.exit_code == -signal.SIGSEGV
    assert "SIGSEGV" in result.message and "test_segv" in result.message


def test_sandbox_dies_with_the_tool(tmp_path: Path) -> None:
    """If the tool itself is killed, the sandboxed code must not live on."""
    marker = f"{900 + os.getpid() % 97}.{time.monotonic_ns() % 10**6}"
    test_source = textwrap.dedent(f'''
        import os

        def test_sleep():
            os.execv("/bin/sleep", ["sleep", "{marker}"])
    ''')
    script = tmp_path / "tool.py"
    script.write_text(textwrap.dedent(f'''
        from code_generation.sandbox.runner import SandboxLimits, run_tests
        run_tests("", "m", {test_source!r}, "test_m.py", limits=SandboxLimits(timeout=60))
    '''))
    tool = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    leftovers: list[Path] = []
    try:
        deadline = time.monotonic() + 60  # how long to wait for the start, not a speed bound
        while not living_processes(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        sleepers = living_processes(marker)
        assert sleepers, "the sandboxed test never started"
        with contextlib.suppress(OSError):
            leftovers.append(Path(os.readlink(f"/proc/{sleepers[0]}/cwd")).parent)
            for line in Path(f"/proc/{sleepers[0]}/cgroup").read_text().splitlines():
                _, controller, rel = line.split(":", 2)
                if controller in ("pids", "memory") and "sandbox-" in rel:
                    leftovers.append(Path("/sys/fs/cgroup", controller, rel.lstrip("/")))
        tool.kill()
        tool.wait()
        deadline = time.monotonic() + 5
        while living_processes(marker) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not living_processes(marker):
            return
        # No PID namespace here: the sandbox cannot notice that we died.
        assert not Path("/usr/bin/unshare").exists() or os.geteuid() != 0, "sandbox outlived the tool"
    finally:
        tool.kill()
        for pid in living_processes(marker):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
        for path in leftovers:
            if path.is_relative_to("/sys"):
                with contextlib.suppress(OSError):
                    path.rmdir()
            else:
                shutil.rmtree(path, ignore_errors=True)


def test_degrades_without_namespaces(monkeypatch: pytest.MonkeyPatch) -> None:
    """No unshare (macOS, locked-down containers): still runs, still kills escapees, says so."""
    from code_generation.sandbox import isolation

    plan = isolation.Plan(unshare_args=[], notes=["namespaces: NOT available (simulated)",
                                                "network: NOT isolated (simulated)"],
                        net_isolated=False, pid_ns=False, mount_ns=False, in_user_ns=False)
    monkeypatch.setitem(isolation.plan_cache, False, plan)
    ok = run("def test_ok():\n    assert 1 + 1 == 2\n")
    assert ok.success, ok.cases
    assert has_note(ok, "network: NOT isolated")
    result = run('''
        import os, time

        def test_escape():
            print(os.getcwd(), flush=True)
            if os.fork() == 0:
                os.setsid()  # leave the process group the timeout kills
                time.sleep(120)
                os._exit(0)
            while True:
                time.sleep(0.1)
    ''', limits=HANG)
    assert result.status == "timeout"
    workdir = sandbox_dir(result)
    time.sleep(0.2)
    assert living_processes(str(workdir.parent)) == []
    assert not workdir.parent.exists()
