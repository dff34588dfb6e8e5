"""``@pseudo_function``: a function written by the model from its signature and docstring.

    from code_generation import pseudo_function

    @pseudo_function(review=True)
    def my_sum_func(a: int, b: int, c: int) -> int:
        \"\"\"Adds all arguments together, then multiplies by two.

        >>> my_sum_func(1, 2, 3)
        12
        \"\"\"

Nothing happens at import. On the first call the docstring's examples, run by the standard
``doctest`` module, become the tests and the create-script loop writes the body, every attempt
in the sandbox. The accepted source is cached on disk under a hash of the signature, docstring
and model, so later runs call no model; only accepted code is ever loaded into this process.
"""

from __future__ import annotations

import ast
import doctest
import functools
import hashlib
import inspect
import os
import sys
import textwrap
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from rich.console import Console
from rich.syntax import Syntax

from code_generation.console import ConsoleProgress
from code_generation.engine.loop import run_loop
from code_generation.languages.python import prompts
from code_generation.run_folder import atomic_write
from code_generation.types import CodeTask, LoopSettings
from my_llm.errors import MyLLMError


class PseudoFunctionError(MyLLMError):
    """The function could not be written (no examples, not solved, or rejected in review)."""


def default_cache_dir() -> Path:
    """``MY_LLM_PSEUDO_CACHE``, else ``pseudo_functions`` in the user cache folder."""
    from platformdirs import user_cache_dir

    from my_llm import config

    override = os.environ.get("MY_LLM_PSEUDO_CACHE")
    return Path(override) if override else config.app_path("cache", "pseudo_functions",
                                                           Path(user_cache_dir("my_llm")) / "pseudo_functions")


def function_stub(func: Callable[..., Any]) -> str:
    """The function as the user wrote it, minus decorators and body: its signature and docstring."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
        node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
    except (OSError, TypeError, SyntaxError, StopIteration):  # no source (a REPL): rebuild it
        doc = inspect.getdoc(func) or ""
        return f'def {func.__name__}{inspect.signature(func)}:\n    """{doc}\n    """\n'
    node.decorator_list = []
    doc = ast.get_docstring(node, clean=True) or ""
    node.body = [ast.Expr(ast.Constant(doc))]
    stub = ast.unparse(node)
    # ast.unparse writes the docstring on one line with escapes; show it as the user wrote it.
    head = stub.split("\n", 1)[0]
    body = textwrap.indent(doc.replace("\\", "\\\\").replace('"""', "'''"), "    ")
    return f'{head}\n    """{body.lstrip()}\n    """\n'


class PseudoFunction:
    """The callable the decorator returns: writes, caches and loads the real function on demand."""

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        review: bool,
        model: str | None,
        chat: BaseChatModel | None,
        max_iterations: int,
        candidates: int,
        seed: int | None,
        cache_dir: Path | None,
        verbose: bool,
    ) -> None:
        functools.update_wrapper(self, func)
        self.name = func.__name__
        self.stub = function_stub(func)
        self.examples = inspect.getdoc(func) or ""
        self.review = review
        self.model = model
        self.chat = chat
        self.max_iterations = max_iterations
        self.candidates = candidates
        self.seed = seed
        self.cache_dir = cache_dir
        self.verbose = verbose
        self._impl: Callable[..., Any] | None = None
        self._loaded: BaseChatModel | None = None  # built from `model` on first need
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- the parts

    def _model_label(self) -> str:
        if self.chat is not None:
            from my_llm.models import describe_model

            return describe_model(self.chat)
        from my_llm.models import resolve_model_spec

        return resolve_model_spec(self.model)

    @property
    def cache_path(self) -> Path:
        key = hashlib.sha256(f"{self.stub}\0{self._model_label()}".encode()).hexdigest()
        return (self.cache_dir or default_cache_dir()) / f"{self.name}-{key[:20]}.py"

    def _task(self, note: str = "") -> CodeTask:
        module = f"pseudo_{self.name}"
        tests = prompts.DOCTEST_FILE.format(module_name=module, name=self.name, examples=self.examples)
        skeleton = self.stub.rstrip() + ("\n" + prompts.REVIEW_NOTE.format(feedback=note) if note else "")
        return CodeTask(f"Implement {self.name}.", module, tests, f"test_{module}.py", skeleton=skeleton)

    def _write(self, console: Console, note: str) -> str:
        chat = self.chat or self._loaded
        if chat is None:
            from my_llm.models import get_chat_model

            chat = self._loaded = get_chat_model(self.model, seed=self.seed, show_progress=self.verbose)
        settings = LoopSettings(max_iterations=self.max_iterations, candidates=self.candidates)
        observer = ConsoleProgress(console, verbose=False) if self.verbose else None
        if self.verbose:
            console.print(f"[cyan]@pseudo_function: writing {self.name} with {self._model_label()}[/cyan]")
        outcome = run_loop(self._task(note), chat, settings, observer=observer)
        if not outcome.success or outcome.best is None or outcome.best.code is None:
            passed = outcome.best.passed if outcome.best else 0
            raise PseudoFunctionError(
                f"could not write {self.name}: its docstring examples still fail after "
                f"{outcome.iterations} attempts ({passed} of {outcome.tests_total} tests passed); "
                "make the docstring clearer or raise max_iterations"
            )
        return outcome.best.code

    def _reviewed(self, code: str, console: Console) -> str:
        """Show the code until the user accepts it; their notes go back to the model."""
        while True:
            console.print(Syntax(code, "python", line_numbers=True))
            answer = input(f"Accept {self.name}? [y]es, [n]o, or say what to change: ").strip()
            if answer.lower() in {"y", "yes"}:
                return code
            if answer.lower() in {"", "n", "no"}:
                raise PseudoFunctionError(f"{self.name} was rejected in review: nothing was cached")
            code = self._write(console, answer)

    def _load(self, code: str, path: Path) -> Callable[..., Any]:
        module = types.ModuleType(f"pseudo_{self.name}")
        module.__file__ = str(path)
        exec(compile(code, str(path), "exec"), module.__dict__)  # accepted code only
        impl = module.__dict__.get(self.name)
        if not callable(impl):
            raise PseudoFunctionError(f"{path} does not define {self.name}(): delete it to write it again")
        return impl

    def implementation(self) -> Callable[..., Any]:
        """The real function: from the cache, else written (and reviewed) now."""
        with self._lock:
            if self._impl is not None:
                return self._impl
            if not doctest.DocTestParser().get_examples(self.examples):
                raise PseudoFunctionError(
                    f"{self.name} has no '>>>' examples in its docstring: add at least one, they are its tests"
                )
            path = self.cache_path
            if path.exists():
                code = path.read_text(encoding="utf-8")
            else:
                console = Console(stderr=True, highlight=False)
                code = self._write(console, "")
                if self.review:
                    code = self._reviewed(code, console)
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(path, code)
            self._impl = self._load(code, path)
            return self._impl

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.implementation()(*args, **kwargs)


def pseudo_function(
    func: Callable[..., Any] | None = None,
    *,
    review: bool = False,
    model: str | None = None,
    chat: BaseChatModel | None = None,
    max_iterations: int = 5,
    candidates: int = 1,
    seed: int | None = None,
    cache_dir: str | Path | None = None,
    verbose: bool | None = None,
) -> Any:
    """Decorate a stub (signature + docstring with ``>>>`` examples); the model writes the body.

    `model` is a spec as for create-script (default: the embedded model, or OpenAI when a key
    is set); `chat` passes a LangChain chat model instead. `review=True` shows the code and asks
    for acceptance or changes before it is cached. Works bare (``@pseudo_function``) or called.
    """

    def decorate(target: Callable[..., Any]) -> PseudoFunction:
        return PseudoFunction(
            target,
            review=review,
            model=model,
            chat=chat,
            max_iterations=max_iterations,
            candidates=candidates,
            seed=seed,
            cache_dir=Path(cache_dir) if cache_dir is not None else None,
            verbose=sys.stderr.isatty() or review if verbose is None else verbose,
        )

    return decorate(func) if func is not None else decorate
