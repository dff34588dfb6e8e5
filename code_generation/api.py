"""`generate_script`: the Python API the `create-script` command wraps.

Settings in, files out: it checks the inputs before any model call, writes the test file when
there is none (and stops for review unless told to go on), runs the engine, records the run
folder, and writes the output only when every test passes.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage

from code_generation.engine.loop import run_loop
from code_generation.languages import Language, close_sandbox, language_for
from code_generation.languages.base import TestFileError
from code_generation.languages.python.dependencies import install_package, make_dependency_venv
from code_generation.run_folder import RunFolder, atomic_write
from code_generation.sandbox.runner import SandboxLimits
from code_generation.script_settings import ScriptSettings
from code_generation.types import (
    Attempt,
    CodeTask,
    FanOut,
    LoopOutcome,
    LoopSettings,
    Observer,
    Sandbox,
    failure_reason,
)
from code_generation.validate_input import check_settings
from my_llm.errors import ModelError, MyLLMError
from my_llm.models import describe_model, get_chat_model, profile_of
from my_llm.models.response_cache import CachedChatModel, ResponseCache
from my_llm.models.usage import CallUsage, UsageTracker

MEMORY_NAMESPACE = "create_script"


@dataclass
class ScriptResult:
    """What happened; `exit_code` follows the CLI's contract (0 pass, 1 not solved, 3 review tests)."""

    status: str  # "passed" | "failed" | "tests_written"
    success: bool
    iterations: int
    tests_passed: int
    tests_total: int
    tokens_in: int
    tokens_out: int
    cost_usd: float | None
    seconds: float
    output_file: str
    test_file: str
    run_dir: str
    model: str
    test_file_generated: bool = False
    tests_corrected: int = 0  # generated tests the model judged wrong and rewrote during the run
    stop_reason: str = ""
    message: str = ""
    cache_hit_rate: float | None = None  # prompt tokens served from the runtime's prompt cache
    tactics_acted: list[str] = field(default_factory=list)  # the tactics that changed something in the run
    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return {"passed": 0, "failed": 1, "tests_written": 3}[self.status]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Recorder:
    """Observer that writes the run folder as the run goes (code files with the language's extension)."""

    def __init__(self, folder: RunFolder, suffix: str = ".py") -> None:
        self.folder = folder
        self.suffix = suffix

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        self.folder.record_call(label, messages, reply, usage)

    def attempt(self, attempt: Attempt, best: Attempt | None) -> None:
        self.folder.record_attempt(
            attempt.iteration,
            attempt.reply,
            attempt.code,
            attempt.summary(),
            attempt.result.to_dict() if attempt.result else None,
            attempt.candidate,
            self.suffix,
        )
        if best is attempt and attempt.code is not None:
            self.folder.write_text(f"best{self.suffix}", attempt.code)

    def event(self, message: str) -> None:
        pass


class _MemoryLog:
    """Observer that sends every prompt and reply through the shared message history."""

    def __init__(self, history: Any, run_id: str) -> None:
        self.history = history
        self.run_id = run_id

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        metadata = {"task": f"create_script:{label.split('-')[0]}", "run_id": self.run_id, "label": label}
        self.history.add_messages([messages[-1], reply], metadata=metadata)

    def attempt(self, attempt: Attempt, best: Attempt | None) -> None:
        pass

    def event(self, message: str) -> None:
        pass


class Observers(FanOut):
    """Fan one event out to several observers."""

    def attempt(self, attempt: Attempt, best: Attempt | None) -> None:
        for o in self.observers:
            o.attempt(attempt, best)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_inputs(settings: ScriptSettings) -> str | None:
    """Everything that can be wrong before a model is called; returns the test source if present.

    Nothing is created here: the output's folder is made when a file is written into it.
    """
    return check_settings(settings)


def _history(enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from my_llm.memory.history import PubSubChatMessageHistory
    except ImportError:
        return None
    return PubSubChatMessageHistory(MEMORY_NAMESPACE)


def default_candidates(chat: BaseChatModel) -> int:
    """Programs per round when the user does not say: the model's profile decides
    (`my_llm.models.model_tiers`; remote models one, since each sample costs money)."""
    return profile_of(chat).candidates


class DependencyInstaller:
    """Installs packages the generated code imports into one temporary venv per run (never yours)."""

    def __init__(self, observer: Observer) -> None:
        self.observer = observer
        self.folder: Path | None = None
        self.python: Path | None = None

    def __call__(self, import_name: str) -> str | None:
        try:
            if self.python is None:
                self.folder = Path(tempfile.mkdtemp(prefix="create-script-deps-"))
                self.folder.chmod(0o755)  # the sandbox may run the tests as an unprivileged user
                self.python = make_dependency_venv(self.folder / "venv")
            ok, message = install_package(self.python, import_name)
        except (OSError, subprocess.SubprocessError) as exc:
            ok, message = False, str(exc)
        if not ok:
            self.observer.event(f"could not install `{import_name}`: {message.splitlines()[-1] if message else 'pip failed'}")
            return None
        self.observer.event(f"installed `{import_name}`; the tests run again in the run's environment")
        return str(self.python)

    def remove(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


class TestFileGuard:
    """The test file as the run started with it: any change stops the run, except a correction
    the run itself writes (`replace`). The loop's guard and the arbiter share one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.digest = _sha256(path)

    def __call__(self) -> None:
        if not self.path.exists() or _sha256(self.path) != self.digest:
            raise TestFileError(f"{self.path} changed during the run: rerun once it is final")

    def replace(self, source: str) -> None:
        """Write the run's own correction of the file; it is the one to guard from now on."""
        atomic_write(self.path, source)
        self.digest = _sha256(self.path)


class TestArbiter:
    """Asks the model whether a failing generated test is wrong; a corrected file replaces it.

    Only tests generated in this run may be corrected: the file is ours, never the user's.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, settings: ScriptSettings, chat: BaseChatModel, usage: UsageTracker, observer: Observer,
                 folder: RunFolder, guard: TestFileGuard, language: Language, sandbox: Sandbox) -> None:
        self.settings, self.chat, self.usage, self.observer = settings, chat, usage, observer
        self.folder, self.guard, self.language, self.sandbox = folder, guard, language, sandbox
        self.corrections: list[str] = []

    def __call__(self, task: CodeTask, attempt: Attempt) -> str | None:
        assert attempt.code is not None and attempt.result is not None
        revised = self.language.arbitrate(self.settings.prompt, task.module_name, task.test_filename,
                                          task.test_source, attempt.code, attempt.result, self.chat, self.usage,
                                          self.observer, self.sandbox, SandboxLimits(timeout=self.settings.timeout))
        if revised is None:
            return None
        self.guard()
        self.corrections.append(revised)
        self.folder.write_text(f"corrected_{len(self.corrections)}_{self.guard.path.name}", revised)
        self.guard.replace(revised)
        return revised


def _build_model(settings: ScriptSettings, chat: BaseChatModel | None) -> tuple[BaseChatModel, int]:
    """The model (a cached one when built here) and the candidates per round."""
    built = chat is None
    if chat is None:
        chat = get_chat_model(
            settings.model,
            base_url=settings.base_url,
            temperature=settings.temperature,
            verbose=settings.verbose,
            seed=settings.seed,
        )
    candidates = settings.candidates or default_candidates(chat)
    if built and settings.cache:  # a model handed in by the caller is used as it is
        chat = CachedChatModel(inner=chat, store=ResponseCache())
    return chat, candidates


def _request_record(settings: ScriptSettings, model_label: str, candidates: int, language: Language,
                    module_name: str) -> dict[str, Any]:
    """What the run was asked to do, for the run folder's request.json."""
    return {
        "prompt": settings.prompt,
        "output_file": str(settings.output_file),
        "test_file": str(settings.resolved_test_file),
        "module_name": module_name,
        **({"language": language.name} if language.name != "python" else {}),
        "model": model_label,
        "settings": {
            "max_iterations": settings.max_iterations,
            "temperature": settings.temperature,
            "timeout": settings.timeout,
            "seed": settings.seed,
            "candidates": candidates,
            "static_checks": settings.static_checks,
            "typecheck": settings.typecheck,
            "allow_install": settings.allow_install,
            "cache": settings.cache,
            **({"tactics": list(settings.tactics)} if settings.tactics is not None else {}),
            **({"crate_source": settings.crate_source} if settings.crate_source is not None else {}),
        },
    }


def _ensure_tests(run: _Run, test_source: str | None) -> tuple[str, bool]:
    """The test source, written from the prompt when there is none (then True)."""
    settings, folder = run.settings, run.folder
    test_file = settings.resolved_test_file
    if test_source is not None:
        return test_source, False
    test_source = run.language.generate_tests(
        settings.prompt, run.module_name, test_file.name, run.chat, run.usage, run.observers, run.sandbox,
        SandboxLimits(timeout=settings.timeout),
    )
    try:
        test_file.parent.mkdir(parents=True, exist_ok=True)  # checked creatable before the model call
        with test_file.open("x", encoding="utf-8") as handle:  # never replace a user's file
            handle.write(test_source)
    except FileExistsError as exc:
        raise MyLLMError(f"{test_file} appeared while the tests were written: review it and rerun") from exc
    folder.write_text(f"generated_{test_file.name}", test_source)
    return test_source, True


@dataclass
class _Run:
    """One run's model, records and what it has done so far, for the steps of `generate_script`."""

    settings: ScriptSettings
    chat: BaseChatModel
    candidates: int
    model_label: str
    folder: RunFolder
    usage: UsageTracker
    observers: Observers
    language: Language
    module_name: str
    sandbox: Sandbox
    generated: bool = False
    corrections: list[str] = field(default_factory=list)

    def result(self, status: str, outcome: LoopOutcome | None, message: str) -> ScriptResult:
        """The run's result, also written to the run folder's run.json."""
        best = outcome.best if outcome else None
        usage = self.usage
        res = ScriptResult(
            status=status,
            success=status == "passed",
            iterations=outcome.iterations if outcome else 0,
            tests_passed=best.passed if best else 0,
            tests_total=outcome.tests_total if outcome else 0,
            tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out,
            cost_usd=usage.cost_usd,
            seconds=round(outcome.seconds if outcome else usage.seconds, 3),
            output_file=str(self.settings.output_file),
            test_file=str(self.settings.resolved_test_file),
            run_dir=str(self.folder.path),
            model=self.model_label,
            test_file_generated=self.generated,
            tests_corrected=len(self.corrections),
            stop_reason=outcome.stop_reason if outcome else status,
            message=message,
            cache_hit_rate=usage.cache_hit_rate,
            tactics_acted=list(outcome.tactics_acted) if outcome else [],
            calls=[asdict(c) for c in usage.calls],
        )
        attempts = [a.summary() for a in outcome.attempts] if outcome else []
        self.folder.write_json("run.json", {**res.to_dict(), "attempts": attempts})
        return res

    def run(self, test_source: str) -> LoopOutcome:
        """The engine on the tests, guarded against changes to the test file."""
        settings, test_file = self.settings, self.settings.resolved_test_file
        self.folder.write_text(test_file.name, test_source)
        guard = TestFileGuard(test_file)
        arbiter = TestArbiter(settings, self.chat, self.usage, self.observers, self.folder, guard, self.language,
                              self.sandbox)
        self.corrections = arbiter.corrections
        task = CodeTask(settings.prompt, self.module_name, test_source, test_file.name, language=self.language.name)
        loop_settings = loop_settings_of(settings, self.candidates)
        installer = DependencyInstaller(self.observers) if settings.allow_install else None
        try:
            outcome = run_loop(task, self.chat, loop_settings, observer=self.observers, guard=guard, usage=self.usage,
                               installer=installer, arbiter=arbiter if self.generated else None,
                               sandbox=self.sandbox)
        finally:
            if installer is not None:
                installer.remove()
        guard()
        return outcome

    def finish(self, outcome: LoopOutcome) -> ScriptResult:
        """Write the output when every test passed; the result either way."""
        settings, folder = self.settings, self.folder
        if outcome.success and outcome.best and outcome.best.code is not None:
            if settings.output_file.exists():
                folder.keep_previous(settings.output_file)
            atomic_write(settings.output_file, outcome.best.code)
            corrected = (f"; {len(self.corrections)} generated test(s) corrected in {settings.resolved_test_file}"
                         if self.corrections else "")
            return self.result("passed", outcome, f"wrote {settings.output_file}{corrected}")
        message = (
            f"no attempt passed every test ({failure_reason(outcome)}); the best is in "
            f"{folder.path / ('best' + self.language.extensions[0])}"
            if outcome.best
            else "the model produced no runnable code"
        )
        return self.result("failed", outcome, message)

    def interrupted(self, status: str = "interrupted", message: str = "") -> None:
        """Record what a run that stopped early (Ctrl-C, a model error) spent, and why."""
        usage = self.usage
        self.folder.write_json(
            "run.json",
            {"status": status, "message": message, "model": self.model_label, "tokens_in": usage.tokens_in,
             "tokens_out": usage.tokens_out, "calls": [asdict(c) for c in usage.calls]},
        )


def loop_settings_of(settings: ScriptSettings, candidates: int) -> LoopSettings:
    """The engine's settings for a create-script run."""
    return LoopSettings(
        max_iterations=settings.max_iterations,
        time_budget=settings.time_budget or None,  # 0: no limit
        give_up_after=settings.give_up_after or None,  # 0: never
        temperature=settings.temperature,
        limits=SandboxLimits(timeout=settings.timeout),
        candidates=candidates,
        static_checks=settings.static_checks,
        typecheck=settings.typecheck,
        tactics=settings.tactics,
        conversation=settings.conversation,
        crate_source=settings.crate_source,
    )


def generate_script(
    settings: ScriptSettings,
    chat: BaseChatModel | None = None,
    observer: Observer | None = None,
    history: Any = None,
) -> ScriptResult:
    """Run create_script end to end; raises `MyLLMError` for bad input or configuration."""
    test_source = check_inputs(settings)
    language = language_for(settings.output_file, settings.language)
    module_name = language.module_name(settings.output_file, test_source, settings)
    chat, candidates = _build_model(settings, chat)
    model_label = describe_model(chat)
    if observer is not None:
        observer.event(f"Model: {model_label}")
    folder = RunFolder.create(settings.prompt, base=settings.runs_base, exact=settings.run_dir)
    usage = UsageTracker(model_name=getattr(chat, "model_name", None) or model_label)
    history = history if history is not None else _history(settings.memory)
    observers = Observers(
        _Recorder(folder, language.extensions[0]),
        *([_MemoryLog(history, folder.path.name)] if history is not None else []),
        *([observer] if observer else []),
    )
    folder.write_json("request.json", _request_record(settings, model_label, candidates, language, module_name))
    sandbox = language.make_sandbox(loop_settings_of(settings, candidates))
    run = _Run(settings, chat, candidates, model_label, folder, usage, observers, language, module_name, sandbox)
    try:
        test_source, run.generated = _ensure_tests(run, test_source)
        if run.generated and not settings.yes:
            return run.result("tests_written", None, f"review {settings.resolved_test_file}, then rerun")
        return run.finish(run.run(test_source))
    except KeyboardInterrupt:
        run.interrupted()
        raise
    except ModelError as exc:  # the server went away, a quota ran out: the folder says so
        run.interrupted("model_error", str(exc))
        raise
    finally:
        close_sandbox(sandbox)
        if history is not None and hasattr(history, "flush"):
            history.flush(timeout=10)  # one quick try; what is not acknowledged stays after the log's outbox cursor
