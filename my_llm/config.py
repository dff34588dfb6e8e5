"""Settings from flags, the environment and config files, in one place and one order.

A flag wins over the environment, the environment over the project's ``pyproject.toml``
(a ``[tool.create-script]`` table, found from the current folder upwards), and that over the
user's ``config.toml`` in the app's config folder (``my-llm paths`` prints it). Environment
variables have one scheme, ``MY_LLM_<KEY>``; the older names keep working.

    model = "local"                 # MY_LLM_MODEL
    base_url = "http://127.0.0.1:8080/v1"
    candidates = 2
    max_iterations = 5
    namespace = "default"
    chroma_url = "localhost:8000"

The app's own folders (data, cache, state, config) are one per kind, named after the app;
folders an older version made under other names are still found and used (`app_path`).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import platformdirs

from my_llm.errors import MyLLMError

APP = "tdd-scriptgen"
TOOL_TABLE = "create-script"  # [tool.create-script] in a project's pyproject.toml
CONFIG_ENV = "MY_LLM_CONFIG"  # another user config file, or "" for none


@dataclass(frozen=True)
class Setting:
    key: str
    kind: type
    legacy: tuple[str, ...] = ()  # older environment variable names, still read
    help: str = ""

    @property
    def env(self) -> str:
        return f"MY_LLM_{self.key.upper()}"


SETTINGS = {s.key: s for s in (
    Setting("model", str, (), "local | local:0.5b | local:PATH.gguf | openai:NAME"),
    Setting("base_url", str, ("OPENAI_BASE_URL",), "an OpenAI-compatible server's URL"),
    Setting("candidates", int, (), "programs sampled per round (create-script)"),
    Setting("max_iterations", int, (), "rounds before giving up (create-script)"),
    Setting("time_budget", float, (), "seconds a create-script search may take (0: no limit; default 600)"),
    Setting("give_up_after", int, (), "rounds in a row without a better attempt before create-script stops (0: never; default 3)"),
    Setting("namespace", str, (), "the memory namespace"),
    Setting("history", str, ("MESSAGE_HISTORY",), "where the message logs live"),
    Setting("chroma_url", str, ("CHROMA_URL",), "a Chroma server: host:port or http(s)://host:port"),
    Setting("chroma_db", str, ("CHROMA_DB_PATH",), "read-repo's local Chroma folder"),
    Setting("cache", str, (), "where the assembled model files live"),
    Setting("embeddings", str, (), "default | openai"),
    Setting("crate_source", str, ("CREATE_SCRIPT_CRATE_SOURCE",), "offline crates for Rust"),
)}  # fmt: skip


def _read_toml(path: Path, what: str) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise MyLLMError(f"{what} {path} is not valid TOML ({exc}): fix it or move it away") from None
    except OSError as exc:
        raise MyLLMError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def user_config_file() -> Path:
    override = os.environ.get(CONFIG_ENV)
    return Path(override).expanduser() if override else Path(platformdirs.user_config_dir(APP)) / "config.toml"


def project_file(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml from `start` (the current folder) upwards that has our table."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file() and TOOL_TABLE in _read_toml(path, "project file").get("tool", {}):
            return path
    return None


def _checked(table: Mapping, source: str) -> dict[str, object]:
    """Known keys of the right type; anything else is one line naming the key and the file."""
    values: dict[str, object] = {}
    for key, value in table.items():
        setting = SETTINGS.get(key.replace("-", "_"))
        if setting is None:
            raise MyLLMError(f"unknown setting {key!r} in {source}: use one of {', '.join(SETTINGS)}")
        kinds = (int, float) if setting.kind is float else (setting.kind,)
        if not isinstance(value, kinds) or isinstance(value, bool):
            what = {int: "a whole number", float: "a number", str: "a string"}[setting.kind]
            raise MyLLMError(f"setting {key!r} in {source} must be {what}, got {value!r}")
        values[setting.key] = setting.kind(value)
    return values


@cache
def file_values(cwd: str | None = None) -> dict[str, tuple[object, str]]:
    """key -> (value, where it came from), from the user's file and then the project's (which wins)."""
    found: dict[str, tuple[object, str]] = {}
    user = user_config_file()
    if os.environ.get(CONFIG_ENV) != "" and user.is_file():
        found.update({k: (v, str(user)) for k, v in _checked(_read_toml(user, "config file"), str(user)).items()})
    project = project_file(Path(cwd) if cwd else None)
    if project is not None:
        table = _read_toml(project, "project file")["tool"][TOOL_TABLE]
        source = f"{project} [tool.{TOOL_TABLE}]"
        found.update({k: (v, source) for k, v in _checked(table, source).items()})
    return found


def lookup(key: str, env: Mapping[str, str] | None = None) -> tuple[object | None, str]:
    """A setting's value and where it came from: the environment (new name, then old ones), the
    project's table, the user's file; (None, "default") when none sets it."""
    setting = SETTINGS[key]
    env = os.environ if env is None else env
    for name in (setting.env, *setting.legacy):
        if env.get(name):
            if setting.kind in (int, float):
                try:
                    return setting.kind(env[name]), f"${name}"
                except ValueError:
                    what = "a whole number" if setting.kind is int else "a number"
                    raise MyLLMError(f"${name} must be {what}, got {env[name]!r}") from None
            return env[name], f"${name}"
    value, source = file_values(os.getcwd()).get(key, (None, "default"))
    return value, source


def value(key: str, env: Mapping[str, str] | None = None) -> object | None:
    return lookup(key, env)[0]


def text(key: str, env: Mapping[str, str] | None = None) -> str | None:
    """A string setting (None when unset)."""
    found = value(key, env)
    return None if found is None else str(found)


def app_path(kind: str, sub: str, *legacy: Path) -> Path:
    """``<the app's folder of this kind>/<sub>`` ("data", "cache" or "state"), unless only a
    folder an older version made exists (`legacy`): then that one, so nothing in it is lost or
    left behind. `my-llm paths` says which is which."""
    base = {"data": platformdirs.user_data_dir, "cache": platformdirs.user_cache_dir,
            "state": platformdirs.user_state_dir}[kind]
    new = Path(base(APP, appauthor=False)) / sub
    if new.exists():
        return new
    return next((old for old in legacy if old.exists()), new)
