"""`complete_file` (what the `complete-file` command wraps) and `complete_source` (for editors).

Settings in, a completion out: the inputs are checked before any model call, the search runs
with the chosen analyzers, every call and candidate goes to the run folder and (unless turned
off) through the shared message history, and the file is replaced, atomically and only when
the completion is accepted and --write is given; otherwise the result carries a unified diff.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from code_generation.completion.analysis import Analyst
from code_generation.completion.analyzers import DEFAULT_ANALYZERS, create
from code_generation.completion.search import Candidate, Search, SearchOutcome, SearchSettings
from code_generation.completion.settings import (
    AGREEMENT_CANDIDATES,
    FALLBACK_MODULE,
    CompletionSettings,
)
from code_generation.completion.splice import Document, locate, unified_diff
from code_generation.completion.validate import check_settings
from code_generation.run_folder import RunFolder
from code_generation.sandbox.runner import SandboxLimits
from code_generation.types import FanOut
from my_llm.errors import MyLLMError
from my_llm.files import write_atomically
from my_llm.models import describe_model, get_chat_model, profile_of
from my_llm.models.model_tiers import ModelProfile
from my_llm.models.response_cache import CachedChatModel, ResponseCache
from my_llm.models.usage import CallUsage, UsageTracker

MEMORY_NAMESPACE = "complete_file"




@dataclass
class CompletionResult:
    """What happened; `exit_code`: 0 accepted, 1 not accepted within the budget."""

    accepted: bool
    written: bool
    file: str
    diff: str
    completion: str | None
    iterations: int
    candidates: int
    backtracks: int
    errors: list[str]
    advice: list[str]
    tests_passed: int
    tests_total: int
    tokens_in: int
    tokens_out: int
    cost_usd: float | None
    seconds: float
    run_dir: str
    model: str
    stop_reason: str
    message: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 0 if self.accepted else 1

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Recorder:
    """Writes each call and candidate into the run folder."""

    def __init__(self, folder: RunFolder, document: Document) -> None:
        self.folder, self.document = folder, document

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        self.folder.record_call(label, messages, reply, usage)

    def candidate(self, candidate: Candidate, best: Candidate | None) -> None:
        code = self.document.text(candidate.completion) if candidate.completion is not None else None
        summary = candidate.summary()
        self.folder.record_attempt(candidate.round, candidate.reply, code, summary, summary["analysis"], candidate.index)
        if best is candidate and code is not None:
            self.folder.write_text("best.py", code)

    def event(self, message: str) -> None:
        pass


class _MemoryLog:
    """Sends each request and reply through the shared message history (namespace complete_file)."""

    def __init__(self, history: Any, run_id: str) -> None:
        self.history, self.run_id = history, run_id

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        asked = next((m for m in reversed(messages) if isinstance(m, HumanMessage)), messages[-1])
        self.history.add_messages([asked, reply], metadata={"task": "complete_file:complete", "run_id": self.run_id,
                                                            "label": label})

    def candidate(self, candidate: Candidate, best: Candidate | None) -> None:
        pass

    def event(self, message: str) -> None:
        pass


class _Fanout(FanOut):
    def candidate(self, candidate: Candidate, best: Candidate | None) -> None:
        for o in self.observers:
            o.candidate(candidate, best)


class _Silent:
    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        pass

    def candidate(self, candidate: Candidate, best: Candidate | None) -> None:
        pass

    def event(self, message: str) -> None:
        pass


def complete_source(
    source: bytes | str,
    chat: BaseChatModel,
    *,
    line: int | None = None,
    column: int | None = None,
    instruction: str | None = None,
    analyzers: Sequence[str] = DEFAULT_ANALYZERS,
    settings: SearchSettings | None = None,
    module_name: str = FALLBACK_MODULE,
    path: str | None = None,
    test_source: str | None = None,
    test_filename: str | None = None,
    limits: SandboxLimits | None = None,
    observer: Any = None,
    usage: UsageTracker | None = None,
) -> tuple[SearchOutcome, Document]:
    """Complete a file's text held in memory (an editor's buffer); nothing is written anywhere.

    Returns the search's outcome and the split document: ``document.splice(outcome.best.completion)``
    is the completed file's bytes, the text before and after the insertion point unchanged.
    """
    data = source.encode("utf-8") if isinstance(source, str) else source
    document = locate(data, line, column)
    names = [*analyzers, *(["tests"] if test_source and "tests" not in analyzers else [])]
    analyst = Analyst(create(names), document, module_name, path, test_source, test_filename, limits)
    search = Search(document, chat, analyst, settings or SearchSettings(), observer or _Silent(),
                    usage or UsageTracker(), Path(path).name if path else f"{module_name}.py", instruction)
    return search.run(), document


def _history(enabled: bool) -> Any:
    if not enabled:
        return None
    from my_llm.memory.history import PubSubChatMessageHistory

    return PubSubChatMessageHistory(MEMORY_NAMESPACE)


def _chat(settings: CompletionSettings) -> BaseChatModel:
    chat = get_chat_model(settings.model, base_url=settings.base_url, temperature=settings.temperature,
                          verbose=settings.verbose, seed=settings.seed)
    return CachedChatModel(inner=chat, store=ResponseCache()) if settings.cache else chat


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def choose_agreement(settings: CompletionSettings, profile: ModelProfile) -> bool:
    """The user's choice, else the profile's unless fewer than 3 candidates were asked for."""
    if settings.agreement is not None:
        return settings.agreement
    return profile.completion_agreement and (settings.candidates is None or settings.candidates >= 3)


def _request_record(settings: CompletionSettings, document: Document, model: str, candidates: int,
                    agreement: bool) -> dict[str, Any]:
    return {
        "file": str(settings.file), "line": settings.line, "column": settings.column,
        "insertion": {"byte_offset": document.start, "replaced_bytes": document.end - document.start,
                      "line": document.line, "todo": document.todo},
        "sha256": _sha256(document.data), "test_file": str(settings.test_file) if settings.test_file else None,
        "instruction": settings.instruction, "analyzers": list(settings.all_analyzers), "model": model,
        "settings": {"max_iterations": settings.max_iterations, "candidates": candidates,
                     "temperature": settings.temperature, "seed": settings.seed, "timeout": settings.timeout,
                     "write": settings.write, "cache": settings.cache, "agreement": agreement},
    }


def _finish(settings: CompletionSettings, document: Document, outcome: SearchOutcome, folder: RunFolder) -> tuple[bool, str, str]:
    """Write the file when accepted and asked to; (written, diff, message)."""
    best = outcome.best
    if best is None or best.completion is None:
        return False, "", "the model wrote no code for the insertion point"
    new = document.splice(best.completion)
    diff = unified_diff(document.data, new, settings.file.name)
    folder.write_text("completed.diff", diff)
    if not outcome.accepted:
        problems = len(best.analysis.errors) if best.analysis else 0
        return False, diff, (f"no completion was accepted ({problems} error(s) left in the best); "
                             f"it is in {folder.path / 'best.py'}, the file is unchanged")
    if not settings.write:
        return False, diff, "accepted; rerun with --write to apply it"
    if _sha256(settings.file.read_bytes()) != _sha256(document.data):
        raise MyLLMError(f"{settings.file} changed during the run: it was not replaced; rerun once it is saved")
    folder.keep_previous(settings.file)
    write_atomically(settings.file, new)
    return True, diff, f"wrote {settings.file} (the old file is in {folder.path / 'previous'})"


def complete_file(settings: CompletionSettings, chat: BaseChatModel | None = None, observer: Any = None,
                  history: Any = None) -> CompletionResult:
    """Run complete-file end to end; raises `MyLLMError` for bad input or configuration."""
    checked = check_settings(settings)
    document = checked.document
    chat = chat if chat is not None else _chat(settings)
    profile = profile_of(chat)
    agreement = choose_agreement(settings, profile)
    candidates = settings.candidates or (AGREEMENT_CANDIDATES if agreement else profile.candidates)
    model = describe_model(chat)
    if observer is not None:
        observer.event(f"Model: {model}")
    folder = RunFolder.create(f"complete {settings.file.name}", base=settings.runs_base, exact=settings.run_dir)
    folder.write_json("request.json", _request_record(settings, document, model, candidates, agreement))
    usage = UsageTracker(model_name=getattr(chat, "model_name", None) or model)
    history = history if history is not None else _history(settings.memory)
    observers = _Fanout(_Recorder(folder, document), _MemoryLog(history, folder.path.name) if history is not None else None,
                        observer)
    names = settings.all_analyzers
    analyst = Analyst(create(names), document, settings.module_name, str(settings.file), checked.test_source,
                      settings.test_file.name if settings.test_file else None, SandboxLimits(timeout=settings.timeout))
    digest = _sha256(checked.data)

    def guard() -> None:
        if _sha256(settings.file.read_bytes()) != digest:
            raise MyLLMError(f"{settings.file} changed during the run: rerun once it is saved")

    search_settings = SearchSettings(settings.max_iterations, candidates, settings.temperature,
                                     agreement=agreement)
    search = Search(document, chat, analyst, search_settings, observers, usage, settings.file.name,
                    settings.instruction, guard)
    try:
        outcome = search.run()
    except KeyboardInterrupt:
        folder.write_json("run.json", {"status": "interrupted", "model": model, "tokens_in": usage.tokens_in,
                                       "tokens_out": usage.tokens_out, "candidates_tried": [c.summary() for c in search.candidates]})
        raise
    written, diff, message = _finish(settings, document, outcome, folder)
    best = outcome.best
    analysis = best.analysis if best else None
    result = CompletionResult(
        accepted=outcome.accepted, written=written, file=str(settings.file), diff=diff,
        completion=best.completion if best else None, iterations=outcome.rounds, candidates=len(outcome.candidates),
        backtracks=outcome.backtracks, errors=[str(f) for f in analysis.errors] if analysis else [],
        advice=[str(f) for f in analysis.advice] if analysis else [],
        tests_passed=analysis.tests_passed if analysis else 0, tests_total=analysis.tests_run if analysis else 0,
        tokens_in=usage.tokens_in, tokens_out=usage.tokens_out, cost_usd=usage.cost_usd,
        seconds=round(outcome.seconds, 3), run_dir=str(folder.path), model=model, stop_reason=outcome.stop_reason,
        message=message, calls=[asdict(c) for c in usage.calls],
    )
    folder.write_json("run.json", {**result.to_dict(), "candidates_tried": [c.summary() for c in outcome.candidates]})
    return result
