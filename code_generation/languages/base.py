"""The `Language` interface: what the engine and the command need to know of a target language.

A language is a plug-in like a tactic: a class registered by name (code_generation/languages/
__init__.py), with one implementation per target (python.py, rust.py). The engine never tests
for a language's name; it asks the run's language for the opening request, the code in a reply,
the sandbox, the feedback and the tactics that apply. The Python implementation is the code the
engine always ran, moved behind this interface unchanged.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from langchain_core.messages import BaseMessage, HumanMessage

from my_llm.errors import MyLLMError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from code_generation.languages.blocks import Extraction
    from code_generation.sandbox.runner import SandboxLimits, SandboxResult
    from code_generation.types import CodeTask, Finding, LoopSettings, Observer, Sandbox
    from my_llm.models.usage import UsageTracker

CaseNote = Callable[[str, str, str], "str | None"]
MAX_TEST_BYTES = 1024 * 1024  # a test file larger than this is refused before it is read


class TestFileError(MyLLMError):
    """The test file cannot be used as the judge."""

    __test__ = False  # not a pytest test class, despite the name


@dataclass
class TestSpec:
    """The names the tests import from the module, and the tests they define."""

    __test__ = False

    module_name: str
    imported_names: list[str] = field(default_factory=list)
    test_names: set[str] = field(default_factory=set)
    test_count: int = 0


class TestGenerationError(MyLLMError):
    """The model did not produce a usable test file."""

    __test__ = False


PER_CASE_CHARS = 900  # the feedback budget of one failing test, in characters, for every language


def trim(text: str, limit: int) -> str:
    """The text cut to `limit` characters, keeping its start and its end (where errors are)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    head = limit // 3
    return text[:head] + "\n[...]\n" + text[-(limit - head - 7) :]


class Language(ABC):
    """One target language. Class attributes describe it; methods do its part of a run."""

    name: ClassVar[str] = ""
    extensions: ClassVar[tuple[str, ...]] = ()
    fence: ClassVar[str] = ""  # the code fence's language tag, and the name rich highlights with
    stop_sequences: ClassVar[tuple[str, ...]] = ()  # where generation stops (at most four: OpenAI's limit)
    tactics: ClassVar[frozenset[str] | None] = None  # the tactics that apply; None: every registered one
    default_tactics: ClassVar[tuple[str, ...] | None] = None  # None: the engine's DEFAULT_TACTICS
    no_code: ClassVar[str] = "the reply contained no code"
    needs: ClassVar[str] = ""  # a tool the language needs, named in errors ("cargo")
    reply_tokens: ClassVar[int | None] = None  # the longest reply a code request may take; None: the model's

    # ------------------------------------------------------------------ what the tests ask

    @abstractmethod
    def analyse_tests(self, test_source: str, module_name: str, test_filename: str) -> TestSpec:
        ...

    @abstractmethod
    def module_name(self, output_file: Path, test_source: str | None, settings: Any = None,
                    label: str = "the test file") -> str:
        """The name the tests know the module by (Python: the file's stem; Rust: the crate's)."""
        ...

    def default_test_file(self, output_file: Path) -> Path:
        """Where the tests go when the user names no test file: ``test_<output>`` beside it."""
        return output_file.with_name(f"test_{output_file.name}")

    def check_environment(self, settings: Any) -> None:
        """Raise a one-line MyLLMError when this machine cannot run the language's tests (default: it can)."""
        return None

    # ------------------------------------------------------------------ the loop

    @abstractmethod
    def check_output(self, output: Path) -> None:
        """Refuse (MyLLMError, one line) an output file this language cannot write; make nothing."""

    @abstractmethod
    def check_test_file(self, settings: Any) -> str | None:
        """The tests' source when the file exists (read safely), else None once it can be written."""

    @abstractmethod
    def opening(self, task: CodeTask, spec: TestSpec, settings: LoopSettings) -> tuple[list[BaseMessage], str | None]:
        ...

    @abstractmethod
    def extract(self, reply: str, task: CodeTask, spec: TestSpec) -> Extraction:
        ...

    def static_findings(self, code: str, module_name: str, settings: LoopSettings) -> list[Finding]:
        return []

    @abstractmethod
    def make_sandbox(self, settings: LoopSettings) -> Sandbox:
        ...

    @abstractmethod
    def verdict(self, result: SandboxResult) -> str:
        ...

    @abstractmethod
    def details(self, result: SandboxResult, budget: int, test_source: str, test_filename: str,
                case_notes: Sequence[CaseNote] | None = None) -> str:
        ...

    def missing_dependency(self, result: SandboxResult, module_name: str) -> str | None:
        return None

    @abstractmethod
    def missing_note(self, name: str) -> str:
        ...

    @abstractmethod
    def tampered_note(self, result: SandboxResult) -> str:
        ...

    @abstractmethod
    def feedback_messages(self, opening: list[BaseMessage], module_name: str, code: str, verdict: str,
                          details: str) -> list[BaseMessage]:
        ...

    @abstractmethod
    def continued_messages(self, history: list[BaseMessage], module_name: str, verdict: str,
                           details: str) -> list[BaseMessage]:
        ...

    @abstractmethod
    def no_code_messages(self, opening: list[BaseMessage], problem: str, module_name: str,
                         names: list[str]) -> list[BaseMessage]:
        ...

    @abstractmethod
    def code_of_reply(self, reply: str) -> str | None:
        ...

    @abstractmethod
    def cut_off_note(self, tokens: int) -> str:
        """The sentence put before the feedback on a reply cut off at the length limit."""

    def render_findings(self, findings: list[Finding]) -> str:
        """Static findings as feedback lines (a language without static checks never has any)."""
        return "\n".join(f"- {f}" for f in findings)

    def splice_function(self, module: str, reply: str, name: str) -> str | None:
        """The module with function `name` taken from the reply, or None: the language cannot splice."""
        return None

    @abstractmethod
    def fenced_reply(self, reply: str) -> str | None:
        ...

    def plan_messages(self, opening: list[BaseMessage], count: int, tried: Sequence[str]) -> list[BaseMessage] | None:
        """The opening request turned into a request for `count` different approaches in words (the
        `plan` tactic), naming those `tried` already; None: the language has no such prompt, so the
        tactic falls back to hotter samples of the request."""
        return None

    def planned_messages(self, opening: list[BaseMessage], plan: str) -> list[BaseMessage] | None:
        """The opening request with one approach to follow, added after it so the runtime's prompt
        cache still serves the request; None: no such prompt (see `plan_messages`)."""
        return None

    # ------------------------------------------------------------------ create-script's own steps

    @abstractmethod
    def generate_tests(self, prompt: str, module_name: str, test_filename: str, chat: BaseChatModel,
                       usage: UsageTracker, observer: Observer, sandbox: Sandbox, limits: SandboxLimits) -> str:
        ...

    @abstractmethod
    def arbitrate(self, prompt: str, module_name: str, test_filename: str, test_source: str, code: str,
                  result: SandboxResult, chat: BaseChatModel, usage: UsageTracker, observer: Observer,
                  sandbox: Sandbox, limits: SandboxLimits) -> str | None:
        ...


def close_sandbox(sandbox: object) -> None:
    """Release what a sandbox made for a run (Rust's shared build folder); plain functions have nothing."""
    close = getattr(sandbox, "close", None)
    if callable(close):
        close()


L = TypeVar("L", bound=type[Language])
REGISTRY: dict[str, Language] = {}


def register_language(cls: L) -> L:
    """Class decorator: make a `Language` selectable by name and by extension."""
    if cls.name in REGISTRY and type(REGISTRY[cls.name]) is not cls:
        raise ValueError(f"language {cls.name!r} is already registered")
    REGISTRY[cls.name] = cls()
    return cls


def _text(message: BaseMessage) -> str:
    return message.content if isinstance(message.content, str) else message.text


def plan_request(opening: list[BaseMessage], count: int, tried: Sequence[str], request_template: str,
                 tried_template: str) -> list[BaseMessage]:
    """The opening request asking for approaches in words instead of code: its closing "Reply
    with ..." paragraph is dropped, the rest kept so the prompt cache serves it. The templates
    are the language's (its prompts module)."""
    request = _text(opening[-1]).rstrip()
    head, _, last = request.rpartition("\n\n")
    if head and last.startswith("Reply with"):
        request = head
    listed = tried_template.format(tried="\n".join(f"- {t}" for t in tried)) if tried else ""
    return [*opening[:-1], HumanMessage(request_template.format(request=request, tried=listed, count=count))]


def planned_request(opening: list[BaseMessage], plan: str, use_template: str) -> list[BaseMessage]:
    """The opening request as it is, then the approach to follow: the request's prefix stays cached."""
    return [*opening[:-1], HumanMessage(f"{_text(opening[-1])}\n\n{use_template.format(plan=plan)}")]
