"""The run folder: every prompt, reply, attempt and test result of a run, on disk.

Layout (all formats are defined here)::

    <run_dir>/request.json          what was asked, the test file's sha256, model, settings
    <run_dir>/<test file>           a copy of the tests that judged the run
    <run_dir>/calls/NN-<label>.json messages sent, reply, tokens, seconds, cost
    <run_dir>/attempts/NN/reply.md, attempt.py, result.json   (attempt.rs for Rust)
    <run_dir>/best.py               the attempt with the most tests passing (best.rs for Rust)
    <run_dir>/previous/<name>       an output file that existed before and was replaced
    <run_dir>/run.json              the summary (written last, rewritten on interrupt)
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, message_to_dict

from my_llm.errors import MyLLMError
from my_llm.files import write_atomically
from my_llm.models.usage import CallUsage

DEFAULT_RUNS_DIR = Path(".create_script") / "runs"


def slugify(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:limit].rstrip("-") or "run"


def atomic_write(path: Path, text: str) -> None:
    """Write through a temp file and rename, so readers never see half a file; a new file is
    private (0600: prompts and replies), a replaced one keeps its mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text, new_mode=0o600)


def _dump(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


class RunFolder:
    """Writes one run's record; created before the first model call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._calls = 0

    @classmethod
    def create(cls, prompt: str, base: Path | None = None, exact: Path | None = None) -> RunFolder:
        """`exact` is a folder the user named; otherwise a fresh timestamped one under `base`."""
        try:
            if exact is not None:
                exact.mkdir(parents=True, exist_ok=True)
                if any(exact.iterdir()):
                    raise MyLLMError(f"run folder {exact} is not empty: choose a new --run-dir")
                return cls(exact)
            base = base or DEFAULT_RUNS_DIR
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            for n in range(1000):
                candidate = base / f"{stamp}-{slugify(prompt)}" if n == 0 else base / f"{stamp}-{slugify(prompt)}-{n}"
                try:
                    candidate.mkdir(parents=True)
                    return cls(candidate)
                except FileExistsError:
                    continue
        except PermissionError as exc:
            raise MyLLMError(f"cannot create the run folder ({exc.filename}): check permissions or use --run-dir") from exc
        raise MyLLMError(f"could not create a run folder under {base}")

    def write_json(self, relative: str, data: Any) -> None:
        atomic_write(self.path / relative, _dump(data))

    def write_text(self, relative: str, text: str) -> None:
        atomic_write(self.path / relative, text)

    def record_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        self._calls += 1
        self.write_json(
            f"calls/{self._calls:02d}-{label}.json",
            {
                "label": label,
                "messages": [message_to_dict(m) for m in messages],
                "reply": message_to_dict(reply),
                "usage": asdict(usage),
            },
        )

    def record_attempt(
        self, iteration: int, reply: str, code: str | None, summary: dict, result: dict | None, candidate: int = 0,
        suffix: str = ".py",
    ) -> None:
        folder = f"attempts/{iteration:02d}" + (f".{candidate}" if candidate else "")
        self.write_text(f"{folder}/reply.md", reply)
        if code is not None:
            self.write_text(f"{folder}/attempt{suffix}", code)
        self.write_json(f"{folder}/result.json", {"attempt": summary, "test_result": result})

    def keep_previous(self, output: Path) -> Path:
        """Copy a file we are about to replace into the run folder first."""
        target = self.path / "previous" / output.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(output, target)
        return target
