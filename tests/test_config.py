"""Settings: flags over the environment over the project's pyproject over the user's config file;
one name scheme with the old names kept; bad files are one line and exit 2; the app's folders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from my_llm import config
from my_llm.errors import MyLLMError
from my_llm.user_input import OneLineParser, add_common_flags

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A user config file and a project folder (cwd) with a pyproject.toml."""
    user = tmp_path / "user" / "config.toml"
    user.parent.mkdir()
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    monkeypatch.setenv(config.CONFIG_ENV, str(user))
    monkeypatch.chdir(project / "sub")  # found from a sub folder upwards
    config.file_values.cache_clear()
    return user, project / "pyproject.toml"


def test_each_layer_wins_over_the_ones_below(files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    user, project = files
    user.write_text('model = "local:0.5b"\ncandidates = 3\nnamespace = "mine"\n')
    assert config.lookup("model") == ("local:0.5b", str(user))
    project.write_text('[project]\nname = "x"\n\n[tool.create-script]\nmodel = "openai:gpt-4o-mini"\n')
    config.file_values.cache_clear()
    assert config.value("model") == "openai:gpt-4o-mini"  # the project's table over the user's file
    assert config.value("candidates") == 3  # what the project leaves unset still comes from the user's
    monkeypatch.setenv("MY_LLM_MODEL", "local")
    assert config.lookup("model") == ("local", "$MY_LLM_MODEL")  # the environment over both files


def test_old_variable_names_keep_working_and_the_new_one_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MESSAGE_HISTORY", "/old")
    assert config.lookup("history") == ("/old", "$MESSAGE_HISTORY")
    monkeypatch.setenv("MY_LLM_HISTORY", "/new")
    assert config.value("history") == "/new"
    monkeypatch.setenv("CHROMA_URL", "localhost:8000")
    assert config.lookup("chroma_url") == ("localhost:8000", "$CHROMA_URL")


@pytest.mark.parametrize(("body", "words"), [
    ("model = \n", "not valid TOML"),
    ('modle = "local"\n', "unknown setting 'modle'"),
    ('candidates = "two"\n', "must be a whole number"),
    ("candidates = true\n", "must be a whole number"),
])
def test_a_bad_config_file_is_one_line_naming_it(files: tuple[Path, Path], body: str, words: str) -> None:
    user, _project = files
    user.write_text(body)
    with pytest.raises(MyLLMError) as caught:
        config.value("model")
    assert words in str(caught.value) and str(user) in str(caught.value) and "\n" not in str(caught.value)


def test_a_bad_number_in_the_environment_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_LLM_CANDIDATES", "lots")
    with pytest.raises(MyLLMError, match=r"\$MY_LLM_CANDIDATES must be a whole number"):
        config.value("candidates")


def test_create_script_takes_its_defaults_from_the_project_and_its_flags_win(files: tuple[Path, Path]) -> None:
    from code_generation.create_script import _settings, build_parser

    _user, project = files
    project.write_text('[tool.create-script]\ncandidates = 4\nmax_iterations = 7\nbase_url = "http://127.0.0.1:9/v1"\n')
    config.file_values.cache_clear()
    settings = _settings(build_parser().parse_args(["Add.", "add.py"]))
    assert (settings.candidates, settings.max_iterations, settings.base_url) == (4, 7, "http://127.0.0.1:9/v1")
    settings = _settings(build_parser().parse_args(["Add.", "add.py", "--candidates", "1", "--max-iterations", "2"]))
    assert (settings.candidates, settings.max_iterations) == (1, 2)


def test_a_broken_config_stops_every_command_with_one_line_and_exit_2(tmp_path: Path) -> None:
    """Before any model is built: the commands run with a dead model address, and must not reach it."""
    bad = tmp_path / "config.toml"
    bad.write_text("candidates = \n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), config.CONFIG_ENV: str(bad),
           "MY_LLM_MODEL": "openai:x", "MY_LLM_BASE_URL": "http://127.0.0.1:9/v1"}
    commands = [
        ["-m", "code_generation.create_script", "Add two numbers.", str(tmp_path / "add.py"), "--no-memory"],
        ["-m", "my_llm.cli", "log"],
    ]
    for command in commands:
        done = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=180)
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2, (command, done.stderr)
        assert len(lines) == 1 and "not valid TOML" in lines[0] and "Traceback" not in done.stderr, done.stderr


def test_the_apps_folder_is_used_unless_only_an_old_one_exists(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    old = tmp_path / "cache" / "my_llm" / "models"
    new = tmp_path / "cache" / config.APP / "models"
    assert config.app_path("cache", "models", old) == new  # nothing anywhere: the app's folder
    old.mkdir(parents=True)
    assert config.app_path("cache", "models", old) == old  # an older version's data is found, not lost
    new.mkdir(parents=True)
    assert config.app_path("cache", "models", old) == new  # once the app's folder exists it wins


def test_my_llm_paths_says_where_and_why(files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    from my_llm import cli

    monkeypatch.setenv("MY_LLM_HISTORY", "/somewhere/history")
    assert cli.main(["paths", "--json"]) == 0
    rows = {r["what"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["message history"] == {"what": "message history", "path": "/somewhere/history",
                                       "source": "$MY_LLM_HISTORY"}
    assert {"user config", "project config", "model files", "reply cache", "read-repo index"} <= set(rows)


def test_every_command_has_version_verbose_and_quiet() -> None:
    parser = OneLineParser(prog="x")
    add_common_flags(parser)
    assert vars(parser.parse_args(["-v", "-q"])) == {"verbose": True, "quiet": True}
    for command in (["-m", "code_generation.create_script"], ["-m", "my_llm.cli"], ["-m", "qna.read_repo"],
                    ["-m", "code_generation.completion"], ["-m", "code_generation.evaluation"]):
        done = subprocess.run([sys.executable, *command, "--version"], cwd=ROOT, capture_output=True, text=True,
                              timeout=180)
        assert done.returncode == 0 and done.stdout.split()[-1] == __import__("my_llm").__version__, done


def test_read_repo_takes_the_question_as_an_argument_and_old_dash_q_still_works() -> None:
    from qna.read_repo import build_parser

    for argv in (["DIR", "Where?"], ["DIR", "-q", "Where?"], ["DIR", "--question", "Where?"]):
        args = build_parser().parse_intermixed_args(argv)
        assert (args.question or args.question_arg) == "Where?", argv
    assert build_parser().parse_intermixed_args(["DIR", "-q", "Where?"]).quiet is True
