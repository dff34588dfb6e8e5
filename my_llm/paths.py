"""Every folder and file the tools read or write, and the setting that chose it (`my-llm paths`)."""

from __future__ import annotations

from pathlib import Path

from my_llm import config


def _source_of(key: str, fallback: str) -> str:
    found, where = config.lookup(key)
    return where if found is not None else fallback


def _app_source(path: Path) -> str:
    """The app's own folder, or a folder an older version made (found and kept in use)."""
    return "the app's folder" if config.APP in path.parts else "found from an older version"


def read_repo_db() -> Path:
    """read-repo's embedded Chroma: MY_LLM_CHROMA_DB (or CHROMA_DB_PATH, or the config's
    chroma_db), else the app's data folder."""
    from platformdirs import user_data_dir

    configured = config.text("chroma_db")
    if configured:
        return Path(configured).expanduser()
    return config.app_path("data", "chroma", Path(user_data_dir("read_repo", appauthor=False)) / "chroma")


def read_repo_history() -> Path:
    """read-repo's interactive question history (readline)."""
    from platformdirs import user_state_dir

    return config.app_path("state", "read_repo_history",
                           Path(user_state_dir("read_repo", appauthor=False)) / "history")


def describe(history_dir: str | None = None) -> list[dict[str, str]]:
    """One row per place: what it is, where, and why there."""
    from my_llm.memory.message_log import history_root
    from my_llm.models.local_model import cache_dir
    from my_llm.models.response_cache import default_cache_dir

    user = config.user_config_file()
    project = config.project_file()
    history = Path(history_dir).expanduser() if history_dir else history_root()
    models, responses, chroma, repl = cache_dir(), default_cache_dir(), read_repo_db(), read_repo_history()
    rows = [
        ("user config", str(user), "exists" if user.is_file() else "not created (optional)"),
        ("project config", f"{project} [tool.{config.TOOL_TABLE}]" if project else "none found",
         "nearest pyproject.toml upwards"),
        ("message history", str(history),
         "--history-dir" if history_dir else _source_of("history", _app_source(history))),
        ("model files", str(models), _source_of("cache", _app_source(models))),
        ("reply cache", str(responses), _app_source(responses)),
        ("read-repo index", str(chroma), _source_of("chroma_db", _app_source(chroma))),
        ("read-repo history", str(repl), _app_source(repl)),
    ]
    chroma_url, where = config.lookup("chroma_url")
    if chroma_url:
        rows.append(("chroma server", str(chroma_url), where))
    return [{"what": what, "path": path, "source": source} for what, path, source in rows]
