"""Bad input to the real command lines: one line on stderr, exit 2, no model call, nothing left behind.

Every case runs the CLI as a subprocess, as a user would, with HOME, caches, the message history
and TMPDIR pointed at fresh folders. create-script gets a model at a closed port
(``--model openai:x --base-url http://127.0.0.1:9``): had a model been called, stderr would say
the server cannot be reached (and "Model: ..." first), so a single line holding the validation
message proves the check came first. Subprocess timeouts turn a hang (a FIFO) into a failure.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.loop_fixtures import TESTS

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "chatgpt_export" / "conversations.json"
DEAD_MODEL = ["--model", "openai:x", "--base-url", "http://127.0.0.1:9"]
DROPPED = ("OPENAI_", "MY_LLM_", "PUBSUB_", "GOOGLE_", "GCLOUD_", "CHROMA_", "MESSAGE_HISTORY")


class Env:
    """Private folders for one test: the working folder, TMPDIR and everything under HOME."""

    def __init__(self, tmp_path: Path) -> None:
        self.work = tmp_path / "work"
        self.tmpdir = tmp_path / "tmpdir"
        self.history = tmp_path / "history"
        for folder in (self.work, self.tmpdir, tmp_path / "home"):
            folder.mkdir()
        self.vars = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED)}
        self.vars.update(
            HOME=str(tmp_path / "home"),
            XDG_CACHE_HOME=str(tmp_path / "home" / ".cache"),
            XDG_DATA_HOME=str(tmp_path / "home" / ".local" / "share"),
            XDG_STATE_HOME=str(tmp_path / "home" / ".local" / "state"),
            MY_LLM_RESPONSE_CACHE=str(tmp_path / "responses"),
            MESSAGE_HISTORY=str(self.history),
            CHROMA_DB_PATH=str(tmp_path / "chroma"),
            TMPDIR=str(self.tmpdir),
        )

    def run(self, module: str, *args: str | bytes, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", module, *args],
            capture_output=True,
            text=True,
            errors="replace",
            env=self.vars,
            cwd=self.work,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )


@pytest.fixture
def env(tmp_path: Path) -> Env:
    return Env(tmp_path)


def assert_one_line(proc: subprocess.CompletedProcess[str], expected: str) -> None:
    """Exit 2, exactly one stderr line holding ``expected``, no traceback."""
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1, proc.stderr
    assert expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def create_script(env: Env, *args: str | bytes, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return env.run("code_generation.create_script", *args, *DEAD_MODEL, "--no-memory", timeout=timeout)


def assert_nothing_left(env: Env, before: set[str]) -> None:
    """No run folder, no new file or folder in the working folder, nothing in TMPDIR."""
    assert not (env.work / ".create_script").exists()
    assert {p.name for p in env.work.iterdir()} == before
    assert [p.name for p in env.tmpdir.iterdir()] == []  # no sandbox-* folder


def write_tests(env: Env, name: str = "test_prime_numbers.py") -> Path:
    path = env.work / name
    path.write_text(TESTS)
    return path


# --------------------------------------------------------------------------- create-script


def test_missing_folder_of_the_test_file_is_refused_before_the_model(env: Env) -> None:
    proc = create_script(env, "Sum primes", "out/prime_numbers.py", "--test_file", "nodir/deeper/test_x.py")
    assert_one_line(proc, "the folder of test file nodir/deeper/test_x.py does not exist")
    assert_nothing_left(env, set())  # neither out/ nor nodir/ was made


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--timeout", "inf", "argument --timeout: 'inf' is not a finite number"),
        ("--timeout", "nan", "argument --timeout: 'nan' is not a finite number"),
        ("--timeout", "-1", "argument --timeout: -1 is out of range"),
        ("--time-budget", "-1", "argument --time-budget: -1 is out of range"),
        ("--give-up-after", "-1", "argument --give-up-after: -1 is out of range"),
        ("--give-up-after", "2.5", "argument --give-up-after: '2.5' is not a whole number"),
        ("--timeout", "0", "argument --timeout: 0 is out of range"),
        ("--timeout", "1e300", "argument --timeout: 1e+300 is out of range"),
        ("--max-iterations", "0", "argument --max-iterations: 0 is out of range"),
        ("--max-iterations", "1e9", "argument --max-iterations: '1e9' is not a whole number"),
        ("--max-iterations", "100000", "argument --max-iterations: 100000 is out of range"),
        ("--candidates", "0", "argument --candidates: 0 is out of range"),
        ("--candidates", "99", "argument --candidates: 99 is out of range"),
        ("--temperature", "nan", "argument --temperature: 'nan' is not a finite number"),
        ("--temperature", "-0.5", "argument --temperature: -0.5 is out of range"),
        ("--temperature", "7", "argument --temperature: 7 is out of range"),
        ("--seed", "-1", "argument --seed: -1 is out of range"),
        ("--seed", str(2**40), f"argument --seed: {2**40} is out of range"),
        ("--seed", "one", "argument --seed: 'one' is not a whole number"),
    ],
)
def test_numbers_out_of_range_are_refused_while_parsing(
    env: Env, option: str, value: str, expected: str
) -> None:
    write_tests(env)
    proc = create_script(env, "Sum primes", "prime_numbers.py", option, value)
    assert_one_line(proc, expected)
    assert "(see create-script --help)" in proc.stderr
    assert_nothing_left(env, {"test_prime_numbers.py"})


def test_fifo_as_test_file_does_not_hang(env: Env) -> None:
    os.mkfifo(env.work / "test_prime_numbers.py")
    proc = create_script(env, "Sum primes", "prime_numbers.py")  # a hang fails at the 60 s limit
    assert_one_line(proc, "test file test_prime_numbers.py is a named pipe (FIFO): give a regular file")
    assert_nothing_left(env, {"test_prime_numbers.py"})


def test_device_as_test_file_is_not_read(env: Env) -> None:
    (env.work / "test_prime_numbers.py").symlink_to("/dev/zero")
    proc = create_script(env, "Sum primes", "prime_numbers.py")  # a hang fails at the 60 s limit
    assert_one_line(proc, "test file test_prime_numbers.py is a device: give a regular file")


def test_huge_test_file_is_refused(env: Env) -> None:
    (env.work / "test_prime_numbers.py").write_text(TESTS + "#" * 1_100_000)
    proc = create_script(env, "Sum primes", "prime_numbers.py")
    assert_one_line(proc, "test file test_prime_numbers.py is 1.05 MB, over the 1 MB limit")


@pytest.mark.parametrize(
    ("setup", "args", "expected"),
    [
        ("dir:test_prime_numbers.py", ["prime_numbers.py"], "test file test_prime_numbers.py is a directory"),
        ("dir:prime_numbers.py", ["prime_numbers.py"], "output file prime_numbers.py is a directory"),
        ("tests", ["prime_numbers.py", "--test_file", "prime_numbers.py"], "the output file and the test file are both prime_numbers.py"),
        ("tests", ["prime_numbers.py", "--test_file", "sub/prime_numbers.py"], "have the same name"),
        ("tests", ["prime_numbers.py", "--test_file", "tests.txt"], "test file tests.txt must be a .py file"),
        ("file:afile", ["afile/prime_numbers.py"], "is a file, not a folder, so it cannot hold the output file"),
        ("tests", ["_sandbox_harness.py"], "has the name of the sandbox's own module"),
        ("tests", ["prime_numbers.py", "--run-dir", "test_prime_numbers.py"], "--run-dir test_prime_numbers.py is a file"),
        ("full-run-dir", ["prime_numbers.py", "--run-dir", "runs"], "run folder runs is not empty"),
        ("latin1-tests", ["prime_numbers.py"], "test file test_prime_numbers.py is not UTF-8 text"),
        ("null-tests", ["prime_numbers.py"], "test file test_prime_numbers.py holds NUL bytes"),
    ],
)
def test_bad_paths_are_refused_before_the_model(
    env: Env, setup: str, args: list[str], expected: str
) -> None:
    kind, _, name = setup.partition(":")
    if kind == "dir":
        (env.work / name).mkdir()
    elif kind == "file":
        (env.work / name).write_text("not a folder\n")
    elif kind == "tests":
        write_tests(env)
    elif kind == "full-run-dir":
        write_tests(env)
        (env.work / "runs").mkdir()
        (env.work / "runs" / "keep.txt").write_text("mine\n")
    elif kind == "latin1-tests":
        (env.work / "test_prime_numbers.py").write_bytes(TESTS.replace("import", "# café\nimport", 1).encode("latin-1"))
    elif kind == "null-tests":
        (env.work / "test_prime_numbers.py").write_text(TESTS + "\0\n")
    before = {p.name for p in env.work.iterdir()}
    proc = create_script(env, "Sum primes", *args)
    assert_one_line(proc, expected)
    assert "Model:" not in proc.stderr and "cannot reach" not in proc.stderr
    assert_nothing_left(env, before)
    if kind == "full-run-dir":
        assert (env.work / "runs" / "keep.txt").read_text() == "mine\n"


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("   ", "the prompt is empty"),
        (b"sum \xff primes", "the prompt holds bytes that are not UTF-8 text"),
        ("x" * 100_001, "over the 100,000 limit"),
    ],
)
def test_bad_prompt_is_refused(env: Env, prompt: str | bytes, expected: str) -> None:
    write_tests(env)
    proc = create_script(env, prompt, "prime_numbers.py")
    assert_one_line(proc, expected)
    assert_nothing_left(env, {"test_prime_numbers.py"})


def test_a_users_output_file_is_untouched_when_refused(env: Env) -> None:
    write_tests(env)
    (env.work / "prime_numbers.py").write_text("# my own work\n")
    proc = create_script(env, "Sum primes", "prime_numbers.py", "--timeout", "inf")
    assert proc.returncode == 2
    assert (env.work / "prime_numbers.py").read_text() == "# my own work\n"


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("timeout", float("inf"), "--timeout must be a number greater than 0 and at most 3600, got inf"),
        ("timeout", float("nan"), "--timeout must be a number greater than 0 and at most 3600, got nan"),
        ("max_iterations", True, "--max-iterations must be a whole number from 1 to 100, got True"),
        ("candidates", 0, "--candidates must be a whole number from 1 to 8, got 0"),
        ("temperature", -1.0, "--temperature must be a number from 0 to 2, got -1.0"),
        ("seed", 2**63, "--seed must be a whole number from 0 to 2147483647"),
        ("give_up_after", 101, "--give-up-after must be a whole number from 0 to 100, got 101"),
    ],
)
def test_the_python_api_checks_the_same_ranges(
    tmp_path: Path, field: str, value: object, expected: str
) -> None:
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    from code_generation.api import ScriptSettings, generate_script
    from my_llm.errors import MyLLMError

    class NoCalls(FakeListChatModel):
        def _call(self, *args: object, **kwargs: object) -> str:  # type: ignore[override]
            raise AssertionError("the model was called")

    tests = tmp_path / "test_prime_numbers.py"
    tests.write_text(TESTS)
    settings = ScriptSettings(
        "Sum primes", tmp_path / "out" / "prime_numbers.py", test_file=tests,
        runs_base=tmp_path / "runs", memory=False, **{field: value},
    )  # fmt: skip
    with pytest.raises(MyLLMError, match="^" + expected.replace("(", r"\(").replace(")", r"\)")):
        generate_script(settings, chat=NoCalls(responses=["x"]))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["test_prime_numbers.py"]  # no out/, no runs/


# --------------------------------------------------------------------------- my-llm import-chatgpt


def _mixed_export(path: Path) -> list[str]:
    """The two good fixture conversations around five with one wrong type each; returns bad titles."""
    good1, good2 = json.loads(FIXTURE.read_text())
    bad = []
    for n, field in enumerate(["parent", "current_node", "author", "parts", "metadata"]):
        conv = copy.deepcopy(good1)
        conv["conversation_id"] = conv["id"] = f"bad-{n}"
        conv["title"] = f"Bad {field}"
        node = conv["mapping"][conv["current_node"]]
        if field == "parent":
            node["parent"] = ["not", "an", "id"]
        elif field == "current_node":
            conv["current_node"] = {"a": 1}
        elif field == "author":
            node["message"]["author"] = "user"
        elif field == "parts":
            node["message"]["content"]["parts"] = 5
        else:
            node["message"]["metadata"] = [1, 2]
        bad.append(conv)
    path.write_text(json.dumps([good1, *bad, good2]))
    return [c["title"] for c in bad]


def _records(env: Env, namespace: str) -> list[dict]:
    log = env.history / namespace / "memory.jsonl"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_bad_conversations_are_skipped_by_name_and_the_rest_imported(env: Env) -> None:
    titles = _mixed_export(env.work / "mixed.json")
    proc = env.run("my_llm.cli", "import-chatgpt", "mixed.json", "-N", "mixed", "--no-index")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for n, title in enumerate(titles):
        assert f"('{title}') id bad-{n}:" in proc.stderr  # each bad one named in a warning
    records = _records(env, "mixed")
    assert len(records) == 8
    ids = {r["metadata"]["conversation_id"] for r in records}
    assert ids == {"6650a1b2-0c1d-8000-9a3e-2f1c0b9d7e11", json.loads(FIXTURE.read_text())[1]["conversation_id"]}
    assert "imported 8 messages from 2 conversations" in proc.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[" * 100_000 + "]" * 100_000, "nests too deeply to read"),
        ("1" * 5000, "is not a ChatGPT export: expected a list of conversations"),
        ("[" + "1" * 5000 + "", "is not valid JSON"),
        ("{not json", "is not valid JSON"),
        ("\xff\xfe", "is not UTF-8 text"),
    ],
)
def test_a_file_that_is_not_an_export_imports_nothing(env: Env, content: str, expected: str) -> None:
    (env.work / "export.json").write_bytes(content.encode("latin-1"))
    proc = env.run("my_llm.cli", "import-chatgpt", "export.json", "-N", "nothing", "--no-index")
    assert_one_line(proc, expected)
    assert not (env.history / "nothing").exists()


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("fifo", "ChatGPT export fifo is a named pipe (FIFO): give a regular file"),
        ("/dev/zero", "ChatGPT export /dev/zero is a device: give a regular file"),
        ("folder", "ChatGPT export not found: folder/conversations.json"),
        ("missing.json", "ChatGPT export not found: missing.json"),
    ],
)
def test_import_of_something_not_a_file_is_one_line(env: Env, target: str, expected: str) -> None:
    os.mkfifo(env.work / "fifo")
    (env.work / "folder").mkdir()
    proc = env.run("my_llm.cli", "import-chatgpt", target, "-N", "nothing", "--no-index")
    assert_one_line(proc, expected)
    assert not (env.history / "nothing").exists()


def test_concurrent_imports_of_one_file_add_each_message_once(env: Env) -> None:
    args = [sys.executable, "-m", "my_llm.cli", "import-chatgpt", str(FIXTURE), "-N", "twice", "--no-index"]
    procs = [
        subprocess.Popen(args, env=env.vars, cwd=env.work, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    ids = [r["id"] for r in _records(env, "twice")]
    assert len(ids) == 8 and len(set(ids)) == 8


# --------------------------------------------------------------------------- read-repo


def test_read_repo_skips_undecodable_names_links_out_and_fifos(env: Env, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "id_rsa.py").write_text("KEY = 'BEGIN PRIVATE KEY'\n")
    repo = env.work / "repo"
    repo.mkdir()
    (repo / "ok.py").write_text("def ok():\n    return 1\n")
    (repo / "inside.py").symlink_to("ok.py")  # a link within the folder is read
    (repo / "key.py").symlink_to(secret / "id_rsa.py")
    (repo / "zero.py").symlink_to("/dev/zero")
    os.mkfifo(repo / "pipe.py")
    with open(os.path.join(os.fsencode(repo), b"caf\xe9.py"), "wb") as handle:
        handle.write(b"x = 1\n")
    proc = env.run("qna.read_repo", "repo", "--no-summaries", *DEAD_MODEL, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    indexed = next(line for line in proc.stderr.splitlines() if line.startswith("Indexed"))
    assert "2 files, 2 indexed" in indexed
    assert "1 names not UTF-8" in indexed
    assert "2 links leaving the folder" in indexed
    assert "1 not regular files" in indexed


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["missing"], "missing: no such directory"),
        (["afile.py"], "afile.py: not a directory"),
        (["repo", "--ext", "*"], "argument --ext: '*' is not a file extension"),
        (["repo", "--ext", ","], "argument --ext: names no extension"),
        (["repo", "--ext", "py/../x"], "is not a file extension"),
        (["repo", "-k", "100000"], "-k must be at most 100"),
        (["repo", "--context-chars", "-1"], "--context-chars must be 0 (show everything retrieved) or more"),
    ],
)
def test_read_repo_bad_input_is_one_line(env: Env, args: list[str], expected: str) -> None:
    (env.work / "afile.py").write_text("x = 1\n")
    (env.work / "repo").mkdir()
    (env.work / "repo" / "a.py").write_text("x = 1\n")
    proc = env.run("qna.read_repo", *args, "-q", "what?", *DEAD_MODEL)
    assert_one_line(proc, expected)
    assert not (env.work / "repo" / ".qna").exists()
