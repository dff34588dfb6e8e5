"""The loop as data: its state, the step each round decides on, and the interface of a tactic.

The engine (`code_generation.engine.loop`) moves one `LoopState` through the phases of a round; a
round ends in a `Step`: `Done(reason)` or `Ask(...)`, the next request. A tactic is a named set
of hooks the phases call (see `Tactic`); which tactics run is chosen per run by name
(`LoopSettings.tactics`, the model's profile, else `DEFAULT_TACTICS`), so a model that needs
fewer of them runs with fewer.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import ClassVar, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from code_generation.languages import Language, get_language
from code_generation.languages.base import TestSpec
from code_generation.plugins import load_plugins
from code_generation.sandbox.runner import SandboxLimits, SandboxResult
from code_generation.types import (
    Arbiter,
    Attempt,
    CodeTask,
    Installer,
    LoopSettings,
    Observer,
    Sandbox,
)
from my_llm.errors import MyLLMError
from my_llm.models.model_tiers import ModelProfile
from my_llm.models.usage import UsageTracker

MAX_FOCUS = 2  # times per run one function is asked for alone


@dataclass
class Request:
    """One model call of a round."""

    messages: list[BaseMessage]
    temperature: float
    whole_module: bool = True  # the reply is a whole module (a reply prefix may start it)
    splice: tuple[str, str] | None = None  # (function, module): the reply's function goes into that module
    kind: str = "opening"  # what asked for it: an `Ask.reason`, "opening", "fresh" or a tactic's name


@dataclass
class Done:
    """The run is over: `reason` is its stop reason ("passed", "stuck")."""

    reason: str


@dataclass
class Ask:
    """The next round's conversation, and what changes with it."""

    messages: list[BaseMessage]
    whole_module: bool = True
    splice: tuple[str, str] | None = None  # see Request.splice
    temperature: float | None = None  # the conversation's next temperature; None leaves it
    reason: str = "feedback"  # "feedback", "focus", "restart", "append", "static", "no_code"
    function: str | None = None  # the function asked for alone
    details: str = ""  # the failures shown with it


Step = Done | Ask


class Tactic:
    """One small-model tactic: a named unit of hooks, each of which does nothing by default.

    The loop calls every selected tactic's hook in a fixed order (DEFAULT_TACTICS', then the
    order other tactics were registered in):
    `opening` and `reply_prefix` (the first answer counts), `fresh_requests` (the first answer
    counts; each round, before the model is asked), `clean` (each in turn), `shown_code`
    (each in turn), `case_note` and `feedback_note` (all notes, in order), `repair` (each in turn,
    until the best attempt passes), `next_request` (the first answer counts, else plain feedback)
    and `extra_requests` (all of them).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    languages: ClassVar[frozenset[str] | None] = None  # the languages it works on; None: any

    def opening(self, state: LoopState) -> tuple[list[BaseMessage], str | None] | None:
        """The opening request and the code it shows the model (the reference), or None."""
        return None

    def reply_prefix(self, state: LoopState) -> str | None:
        """The start of a whole-module reply, written for the model, or None."""
        return None

    def fresh_requests(self, state: LoopState, count: int) -> list[Request] | None:
        """Up to `count` of the round's extra candidates in place of hotter fresh samples of the
        opening request (the ones not given stay such samples), or None."""
        return None

    def clean(self, code: str, state: LoopState) -> tuple[str, list[str]]:
        """The extracted code, repaired before its test run, and notes on what changed."""
        return code, []

    def shown_code(self, code: str, state: LoopState) -> str:
        """The attempt's code as the feedback shows it."""
        return code

    def case_note(self, message: str, test_source: str, test_filename: str) -> str | None:
        """A sentence added under one failing test's message."""
        return None

    def feedback_note(self, code: str, state: LoopState) -> str:
        """A paragraph put before the failures in the feedback ("" for none)."""
        return ""

    def repair(self, best: Attempt, state: LoopState, label: tuple[int, int]) -> Attempt | None:
        """The best attempt improved without a model call, tested, or None."""
        return None

    def next_request(self, shown: Attempt, top: Attempt, state: LoopState) -> Ask | None:
        """The next request instead of plain feedback on `shown`, or None."""
        return None

    def extra_requests(self, ask: Ask, shown: Attempt, state: LoopState) -> list[Request]:
        """Requests added to the next round beside the conversation's."""
        return []


T = TypeVar("T", bound=type[Tactic])
_R = TypeVar("_R")
_REGISTRY: dict[str, type[Tactic]] = {}
# Every built-in tactic: the set a run uses unless its settings or its model's profile say otherwise.
DEFAULT_TACTICS = (
    "skeleton", "prefill", "type_note", "combine", "restart", "focus", "afresh", "append",
)  # fmt: skip
# What `LoopSettings.focus_functions=False` turns off: one function at a time, and the repairs
# that work on functions.
FUNCTION_TACTICS = frozenset({"focus", "afresh", "combine"})
APPEND = "append"


def register_tactic(name: str, description: str = "") -> Callable[[T], T]:
    """Class decorator: make a `Tactic` subclass selectable as ``--tactics name``."""

    def decorate(cls: T) -> T:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"tactic {name!r} is already registered")
        cls.name = name
        doc = (cls.__doc__ or "").strip().splitlines()
        cls.description = description or (doc[0] if doc else "")
        _REGISTRY[name] = cls
        return cls

    return decorate


def _in_order() -> list[str]:
    """Every registered name in the order the loop calls them: the built-ins as in DEFAULT_TACTICS
    (so the order never depends on which module was imported first), then the others."""
    load_plugins()
    known = list(_REGISTRY)
    return sorted(known, key=lambda n: (DEFAULT_TACTICS.index(n) if n in DEFAULT_TACTICS else len(DEFAULT_TACTICS),
                                        known.index(n)))


def available_tactics() -> dict[str, str]:
    """Name -> one-line description, in the order the loop calls them."""
    return {name: _REGISTRY[name].description for name in _in_order()}


def check_tactics(names: Iterable[str]) -> tuple[str, ...]:
    """The names, de-duplicated; an unknown one is a user error listing the known ones."""
    load_plugins()
    chosen = tuple(dict.fromkeys(names))
    unknown = [n for n in chosen if n not in _REGISTRY]
    if unknown:
        raise MyLLMError(f"unknown tactic {unknown[0]!r}: choose from {', '.join(_in_order())}")
    return chosen


def parse_tactics(text: str) -> tuple[str, ...]:
    """``"skeleton,prefill"`` -> checked names; ``""`` or ``"none"`` -> no tactic at all."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    return () if names == ["none"] else check_tactics(names)


def tactic_names(settings: LoopSettings, profile: ModelProfile, language: Language | None = None) -> tuple[str, ...]:
    """The tactics a run uses, in calling order.

    The run's own list, else the profile's, else the default set (the language's, else
    DEFAULT_TACTICS). The conversation follows `LoopSettings.conversation` when set; otherwise
    an explicit list decides by holding "append" or not, and the default set follows the
    profile's `conversation`. Only the tactics that apply to the language are kept.
    """
    explicit = settings.tactics if settings.tactics is not None else profile.tactics
    defaults = language.default_tactics if language is not None and language.default_tactics else DEFAULT_TACTICS
    names = set(check_tactics(explicit if explicit is not None else defaults))
    if settings.conversation:
        conversation = settings.conversation
    elif explicit is not None:
        conversation = APPEND if APPEND in names else "latest"
    else:
        conversation = profile.conversation
    names.discard(APPEND)
    if conversation == APPEND:
        names.add(APPEND)
    if not settings.focus_functions:
        names -= FUNCTION_TACTICS
    names &= tactics_for(language)
    return tuple(n for n in _in_order() if n in names)


def tactics_for(language: Language | None) -> frozenset[str]:
    """The registered tactics that apply to a language: its own list, else every tactic not made
    for other languages only (no language: the Python path)."""
    load_plugins()
    if language is not None and language.tactics is not None:
        return frozenset(language.tactics) & frozenset(_REGISTRY)
    name = language.name if language is not None else "python"
    return frozenset(n for n, cls in _REGISTRY.items() if cls.languages is None or name in cls.languages)


def make_tactics(names: Iterable[str]) -> list[Tactic]:
    """One fresh instance of each named tactic, for one run."""
    load_plugins()
    return [_REGISTRY[name]() for name in names]


@dataclass
class LoopState:
    """Everything one run carries from round to round."""

    task: CodeTask
    settings: LoopSettings
    chat: BaseChatModel
    tactics: list[Tactic]
    observer: Observer
    usage: UsageTracker
    sandbox: Sandbox
    installer: Installer | None = None
    arbiter: Arbiter | None = None
    guard: Callable[[], None] | None = None
    spec: TestSpec = field(init=False)
    language: Language = field(init=False)
    opening: list[BaseMessage] = field(init=False)
    reference: str | None = field(init=False)  # the code the request showed (its examples are restored)
    prefix: str | None = None  # the start written into whole-module replies
    started: float = field(default_factory=time.monotonic)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)  # the time budget's clock
    attempts: list[Attempt] = field(default_factory=list)
    best: Attempt | None = None
    seen: set[str] = field(default_factory=set)  # digests of the programs the conversation produced
    messages: list[BaseMessage] = field(default_factory=list)  # the conversation's next request
    temperature: float = 0.0
    whole_module: bool = True  # the conversation asks for the whole module (not one function alone)
    splice: tuple[str, str] | None = None  # see Request.splice, for the conversation's next reply
    kind: str = "opening"  # the `Ask.reason` of the conversation's next request
    extra: list[Request] = field(default_factory=list)  # tactics' requests for the next round
    iteration: int = 0
    stalls: int = 0  # attempts in a row that did not beat the best
    flat: int = 0  # rounds in a row in which the best did not get better (restarts do not reset it)
    n_candidates: int = 1
    last_signature: tuple[str, ...] | None = None
    repeats: int = 0  # rounds in a row with the same failing tests, after the first
    arbitrations: int = 0
    focused: Counter[str] = field(default_factory=Counter)  # function -> times asked for alone
    tried: set[str] = field(default_factory=set)  # digests of the repairs already tested
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    install_tried: set[str] = field(default_factory=set)
    acted: set[str] = field(default_factory=set)  # tactics whose hooks changed something (`LoopOutcome.tactics_acted`)

    def __post_init__(self) -> None:
        self.temperature = self.settings.temperature
        self.n_candidates = self.settings.candidates
        self.limits = self.settings.limits
        self.language = get_language(self.task.language)
        self.set_task(self.task)
        self.messages = self.opening

    @property
    def several(self) -> bool:
        """Several candidates a round: keep what passed, and escalate when the same failure repeats."""
        return self.settings.candidates > 1

    @property
    def hot(self) -> float:
        """The temperature of a model that repeats itself, and of the other hotter requests."""
        return min(1.0, self.settings.temperature + self.settings.escalate_temperature)

    @property
    def fresh(self) -> float:
        """The temperature of fresh samples of the opening request: never cooler than the run's own."""
        return max(self.settings.temperature, self.settings.fresh_temperature)

    def set_task(self, task: CodeTask) -> None:
        """Judge by `task`'s tests from now on: what they ask for and the opening request."""
        self.task = task
        self.spec = self.language.analyse_tests(task.test_source, task.module_name, task.test_filename)
        chosen = self.first(lambda t: t.opening(self))
        self.opening, self.reference = chosen or self.language.opening(task, self.spec, self.settings)

    def first(self, hook: Callable[[Tactic], _R | None]) -> _R | None:
        """The first tactic's answer to `hook` that is not None."""
        for tactic in self.tactics:
            answer = hook(tactic)
            if answer is not None:
                self.acted.add(tactic.name)
                return answer
        return None

    def noted(self, tactic: Tactic, changed: object) -> None:
        """Record that `tactic` changed something when `changed` is true."""
        if changed:
            self.acted.add(tactic.name)

    def test(self, code: str) -> SandboxResult:
        """Run the tests on `code`; a missing third-party package is installed once and the run repeated."""
        task = self.task
        result = self.sandbox(code, task.module_name, task.test_source, task.test_filename, limits=self.limits)
        missing = self.language.missing_dependency(result, task.module_name)
        if missing and self.installer is not None and missing not in self.install_tried:
            self.install_tried.add(missing)
            self.observer.event(f"the code needs `{missing}`: installing it into the run's own environment")
            python = self.installer(missing)
            if python is not None:
                self.limits = replace(self.limits, python=python)
                result = self.sandbox(code, task.module_name, task.test_source, task.test_filename, limits=self.limits)
        return result

    def shown_code(self, code: str) -> str:
        """The attempt's code as the feedback shows it."""
        for tactic in self.tactics:
            shown = tactic.shown_code(code, self)
            self.noted(tactic, shown != code)
            code = shown
        return code

    def _recorded_case_note(self, tactic: Tactic) -> Callable[[str, str, str], str | None]:
        def note(message: str, test_source: str, test_filename: str) -> str | None:
            answer = tactic.case_note(message, test_source, test_filename)
            self.noted(tactic, answer is not None)
            return answer

        return note

    def details(self, shown: Attempt, top: Attempt, reported: SandboxResult) -> str:
        """The feedback on `shown`: the failures in `reported`, the tactics' notes, and why `top` lost."""
        task = self.task
        assert shown.code is not None and shown.result is not None
        case_notes = [self._recorded_case_note(t) for t in self.tactics if type(t).case_note is not Tactic.case_note]
        details = self.language.details(reported, self.settings.feedback_budget, task.test_source,
                                        task.test_filename, case_notes=case_notes)
        for tactic in self.tactics:
            if note := tactic.feedback_note(shown.code, self):
                self.noted(tactic, True)
                details = f"{note}\n\n{details}"
        if shown.usage is not None and shown.usage.truncated:
            details = f"{self.language.cut_off_note(shown.usage.tokens_out)}\n\n{details}"
        if missing := self.language.missing_dependency(shown.result, task.module_name):
            details = f"{self.language.missing_note(missing)}\n\n{details}"
        if top.tampered and shown is not top:  # the feedback shows the best's failures: say why the last was rejected
            assert top.result is not None
            details = f"{self.language.tampered_note(top.result)}\n\n{details}"
        if shown.findings:
            details = f"{details}\n\n{self.language.render_findings(shown.findings)}"
        return details

