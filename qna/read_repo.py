#!/usr/bin/env python
"""read-repo DIR: index a code directory, then answer questions about it with cited sources.

A thin command line over ``qna.walk``, ``qna.index``, ``qna.summaries`` and ``qna.answer``. It
also runs as a plain script (``python qna/read_repo.py DIR``), so it imports the ``qna`` package
by absolute name and never relies on relative imports.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qna.session import RepoSession
    from qna.timings import PhaseTimes

if not __package__:  # run as a script: make the checkout importable, not the qna/ folder itself
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # Ctrl-C, as every command of the project and the shell itself
PROMPT = "Question> "


MAX_K = 100  # chunks retrieved per question; more would not fit in any model's context


def _ext_list(value: str) -> tuple[str, ...]:
    """--ext checked while the options are parsed, before any model or index is touched."""
    from qna.walk import IndexError_, parse_exts

    try:
        return parse_exts(value)
    except IndexError_ as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("--ext ")) from None


def _add_summary_flags(parser: argparse.ArgumentParser) -> None:
    """The per-file summaries: where they go, whether and when they are written; and --timings."""
    parser.add_argument(
        "--resummarise",
        action="store_true",
        help="regenerate the summaries this tool wrote (files you wrote are never touched)",
    )
    parser.add_argument(
        "--summaries-dir", default=None, help="where summaries go (default: DIR/.qna/summaries)"
    )
    parser.add_argument(
        "--no-summaries", action="store_true", help="skip writing and indexing file summaries"
    )
    parser.add_argument(
        "--summaries-first",
        action="store_true",
        help="write the missing summaries before answering (the first answer then waits for one "
        "model call per code file; by default they are written after the answer)",
    )
    parser.add_argument(
        "--timings",
        action="store_true",
        help="print where the time went (startup, walk, index, model load, retrieval, answer, "
        "summaries) and the first token's seconds on stderr; --verbose prints it too",
    )


def build_parser() -> argparse.ArgumentParser:
    """The old tool's flags (repo, --reindex, --ext, --ignore, --resummarise) plus the new ones."""
    from my_llm.user_input import OneLineParser, add_common_flags

    parser = OneLineParser(
        prog="read-repo",
        description="Ask questions about a code directory; answers cite files and line ranges.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("repo", metavar="DIR", help="the directory to read (a checkout on disk)")
    parser.add_argument("question_arg", metavar="QUESTION", nargs="?", default=None,
                        help="answer this one question and exit (else an interactive session)")
    parser.add_argument("--reindex", action="store_true", help="rebuild the index from scratch")
    parser.add_argument(
        "--ext",
        type=_ext_list,
        default=".py,.md",
        help="comma separated file extensions to include",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="PATH_OR_GLOB",
        help="a path or gitignore-style glob to leave out (repeatable); .gitignore, .git, "
        "virtualenvs, node_modules, caches and build folders are always left out",
    )
    _add_summary_flags(parser)
    parser.add_argument("--question", default=None, help="the same as QUESTION (`-q TEXT` still works: "
                        "-q is --quiet, and TEXT is taken as QUESTION)")
    parser.add_argument(
        "--json", action="store_true", help='print {"answer": ..., "sources": [...]} as JSON'
    )
    parser.add_argument(
        "--model",
        default=None,
        help="local, local:/path.gguf or openai:<model> (default: MY_LLM_MODEL, else OpenAI "
        "when OPENAI_API_KEY is set, else the embedded model)",
    )
    parser.add_argument("--base-url", default=None, help="an OpenAI-compatible server URL")
    parser.add_argument("-k", type=int, default=5, help="how many code chunks to retrieve")
    parser.add_argument(
        "--context-chars", type=int, default=None, metavar="N",
        help="characters of code and summaries shown per answer, nearest first (default 3500: "
        "about 10 s before the first words with the embedded model; 0 shows all that -k retrieves)",
    )  # fmt: skip
    parser.add_argument(
        "--db", default=None, help="Chroma folder (default: CHROMA_DB_PATH, else the user data dir)"
    )
    add_common_flags(parser)
    return parser


def make_chat_model(args: argparse.Namespace) -> Any:
    """The chat model the flags name; tests replace this with a LangChain fake."""
    from my_llm.models import get_chat_model

    return get_chat_model(args.model, base_url=args.base_url, verbose=args.verbose, max_tokens=512)


def _describe(chat: Any) -> str:
    try:
        from my_llm.models import describe_model

        return describe_model(chat)
    except Exception:  # noqa: BLE001 - a label is not worth failing for
        return type(chat).__name__


class _Bars:
    """Rich progress bars on stderr for files, chunks and summaries."""

    def __init__(self, enabled: bool) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.progress = Progress(
            TextColumn("{task.description:>10}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(stderr=True),
            transient=True,
            disable=not enabled,
        )
        self.tasks: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(stage, total=total or 1)
        self.progress.update(self.tasks[stage], completed=done if total else 1, total=total or 1)

    def __enter__(self) -> _Bars:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def _history_file() -> Path:
    from my_llm.paths import read_repo_history

    return read_repo_history()


def _setup_readline() -> Path | None:
    """Line editing and a persistent question history, where readline exists."""
    try:
        import readline
    except ImportError:  # Windows without pyreadline: plain input() still works
        return None
    path = _history_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            readline.read_history_file(str(path))
        readline.set_history_length(1000)
    except OSError:
        return None
    return path


def _save_readline(path: Path | None) -> None:
    if path is None:
        return
    try:
        import readline

        readline.write_history_file(str(path))
    except (ImportError, OSError):
        pass


def _print_answer(result: Any, as_json: bool, streamed: bool = False) -> None:
    """The answer and its sources; ``streamed``: the answer is on the screen already."""
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False), flush=True)
        return
    print("\n\nSources:" if streamed else f"\n{result.answer}\n\nSources:")
    for source in result.sources:
        print(f" - {source}")
    print(flush=True)


class _LivePrinter:
    """The answer on stdout word by word as the model writes it.

    The whitespace around it is dropped as ``Answer.answer`` drops it (held back until more text
    follows), so the screen ends up exactly as the printed whole answer would have made it.
    """

    def __init__(self) -> None:
        self.started = False  # the blank line and a visible character are out
        self.held = ""  # whitespace not printed yet

    def __call__(self, text: str) -> None:
        if not self.started:
            text = text.lstrip()
            if not text:
                return
            self.started = True
            sys.stdout.write("\n")
        body = text.rstrip()
        if not body:
            self.held += text
            return
        sys.stdout.write(self.held + body)
        self.held = text[len(body):]
        sys.stdout.flush()

    def finish(self) -> None:
        """After the last piece: the blank line an empty answer would have had."""
        if not self.started:
            sys.stdout.write("\n")

    def break_line(self) -> None:
        """A failure part-way: end the half-written line so the error starts on its own."""
        if self.started:
            print(flush=True)


def _live(args: argparse.Namespace) -> bool:
    """Stream the answer when a person reads it: a terminal, not --json."""
    return not args.json and sys.stdout.isatty()


def _summaries_ignore(root: Path, summaries_dir: str | None) -> list[str]:
    """A --summaries-dir inside DIR must not be indexed as code: ignore it."""
    if not summaries_dir:
        return []
    target = Path(summaries_dir).expanduser().resolve()
    try:
        return ["/" + target.relative_to(root).as_posix() + "/"]
    except ValueError:
        return []


def _check_k(k: int) -> None:
    """-k in range before anything loads: 0 retrieves nothing, a huge k fits no context."""
    if k < 1:
        raise _UsageError("-k must be at least 1")
    if k > MAX_K:
        raise _UsageError(
            f"-k must be at most {MAX_K}: more chunks would not fit a model's context"
        )


def _check_context(chars: int | None) -> int | None:
    """--context-chars: unset means the default budget, 0 no budget; a negative one is a typo."""
    if chars is None:
        from qna.answer import CONTEXT_CHARS

        return CONTEXT_CHARS
    if chars < 0:
        raise _UsageError("--context-chars must be 0 (show everything retrieved) or more")
    return chars or None


def _open_session(args: argparse.Namespace, times: PhaseTimes) -> RepoSession:
    """Check the input, then index the code: everything before the first model call."""
    from qna.session import RepoSession
    from qna.walk import check_directory

    _check_k(args.k)
    context_chars = _check_context(args.context_chars)
    root = check_directory(args.repo)
    if args.question is not None and not args.question.strip():
        raise _UsageError("the question is empty")
    with times.phase("startup"):
        if args.db is None:  # CHROMA_URL is used, so checked before any model loads (--db skips it)
            from my_llm.memory.chroma_client import chroma_server

            chroma_server()
        from my_llm.memory.embeddings import get_embedding_function
        from qna.index import get_client

        embedding_function = get_embedding_function()
        chat = make_chat_model(args)  # before indexing, so a bad --model fails fast
        client = get_client(args.db)
    with _Bars(_show(args)) as bars:
        session = RepoSession.open(
            root, chat, client=client, embedding_function=embedding_function, exts=args.ext,
            ignore=[*args.ignore, *_summaries_ignore(root, args.summaries_dir)],
            reindex=args.reindex, summaries=not args.no_summaries,
            summaries_dir=args.summaries_dir, progress=bars, times=times,
        )  # fmt: skip
    session.k, session.resummarise, session.context_chars = args.k, args.resummarise, context_chars
    _err(f"Indexed {root}: {session.index_stats.summary_line()}")
    if args.verbose:
        for path in session.walked.skipped_paths:
            _err(f"  skipped {path}")
    _err(f"Model: {_describe(chat)}")
    return session


def _show(args: argparse.Namespace) -> bool:
    """Progress bars only on a terminal, and not with --quiet."""
    return sys.stderr.isatty() and not args.quiet


def _timed(args: argparse.Namespace) -> bool:
    return bool(args.timings or args.verbose)


def _summarise(session: RepoSession, args: argparse.Namespace, after: bool) -> int:
    """Write the missing summaries with a progress bar; Ctrl-C stops and keeps the finished ones."""
    todo = session.pending()
    if not todo:
        return EXIT_OK
    if after:
        _err(
            f"Summarising {len(todo)} code files for later questions (one model call each; "
            "answers do not wait for them). Ctrl-C stops; finished summaries are kept."
        )
    code = EXIT_OK
    try:
        with _Bars(_show(args)) as bars:
            session.summarise(progress=bars)
        _err(session.summary_stats.summary_line())
    except KeyboardInterrupt:
        _err(f"stopped: {session.summary_stats.summary_line()}; the rest are written next time")
        code = EXIT_INTERRUPTED
    if _timed(args) and after:
        _err(f"time: {session.times.line()}")
    return code


def run(args: argparse.Namespace) -> int:
    """Index, answer at once, then write the summaries still missing; returns the exit code.

    Summaries cost one model call per code file (most of a first run's time) and recall does not
    need them, so they come after the answer (``--summaries-first``: before it, the old order).
    """
    from qna.answer import log_exchange, recent_turns
    from qna.timings import PhaseTimes

    times = PhaseTimes()
    session = _open_session(args, times)
    if args.summaries_first and _summarise(session, args, after=False) != EXIT_OK:
        return EXIT_INTERRUPTED
    history = _open_history(session.root, args.verbose)
    turns: list[tuple[str, str]] = []

    def answer(question: str) -> None:
        printer = _LivePrinter() if _live(args) else None
        try:
            result = session.answer(question, history=recent_turns(turns), on_text=printer)
        except BaseException:
            if printer is not None:
                printer.break_line()
            raise
        if printer is not None:
            printer.finish()
        turns.append((question, result.answer))
        _print_answer(result, args.json, streamed=printer is not None)
        if _timed(args):
            _err(_answer_time(times, result.timings, first=len(turns) == 1))
        try:
            log_exchange(history, question, result)
        except Exception as exc:  # noqa: BLE001 - losing a log line must not lose the answer
            if args.verbose:
                _err(f"could not log the exchange: {exc}")

    if args.question is not None:
        answer(args.question)
        return _summarise(session, args, after=True)
    code = _loop(answer, bool(session.pending()), args.verbose)
    return _summarise(session, args, after=True) if code == EXIT_OK else code


def _answer_time(times: PhaseTimes, timings: dict[str, float], first: bool) -> str:
    """The first answer's line covers all it waited for; a later one's only its own work.

    A streamed answer adds its first token: seconds from the request to the first words (and,
    for the first answer, how long after the start they appeared).
    """
    from qna.answer import FIRST_TOKEN
    from qna.timings import FIRST_ANSWER_PHASES

    token = timings.get(FIRST_TOKEN)
    if first:
        line = f"time to the first answer: {times.line(('startup', *FIRST_ANSWER_PHASES))}"
        if token is None:
            return line
        before = times.total(("startup", *FIRST_ANSWER_PHASES)) - timings.get("answer", 0.0)
        return line + f"; first words after {before + token:.1f} s (first token {token:.1f} s after the request)"
    return "time: " + ", ".join(f"{phase.replace('_', ' ')} {seconds:.2f} s" for phase, seconds in timings.items())


def _loop(answer: Any, summaries_pending: bool, verbose: bool) -> int:
    """Ask until Ctrl-D (exit 0) or Ctrl-C (exit 130); one failed answer does not end the session."""
    history_path = _setup_readline()
    _err("Ask a question. Ctrl-D to quit (Ctrl-C quits too, with exit code 130).")
    if summaries_pending:
        _err(
            "Files without a summary are summarised when you quit with Ctrl-D "
            "(answers do not wait for them; Ctrl-C then stops, keeping the finished ones)."
        )
    code = EXIT_OK
    try:
        while True:
            try:
                question = input(PROMPT)
            except EOFError:
                break
            if not question.strip():
                continue
            try:
                answer(question)
            except Exception as exc:  # noqa: BLE001 - one failed answer should not end the session
                if verbose:
                    import traceback

                    traceback.print_exc()
                _err(f"read-repo: error: {_explain(exc)}")
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    finally:
        _save_readline(history_path)
        print(file=sys.stderr)
    return code


def _open_history(root: Path, verbose: bool) -> Any | None:
    """The shared message history (qna_<dir>), or None if it is unavailable; never fatal."""
    from qna.answer import open_history

    try:
        return open_history(root)
    except Exception as exc:  # noqa: BLE001 - history is a convenience for the loop
        if verbose:
            _err(f"message history unavailable: {exc}")
        return None


class _UsageError(Exception):
    """Bad input on the command line."""


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions whose message is a one-line explanation for the user (exit 2)."""
    from qna.summaries import SummaryError
    from qna.walk import IndexError_

    errors: list[type[BaseException]] = [_UsageError, IndexError_, SummaryError]
    try:
        from my_llm.errors import MyLLMError

        errors.append(MyLLMError)
    except ImportError:
        pass
    try:
        from my_llm.memory.embeddings import EmbeddingError

        errors.append(EmbeddingError)
    except ImportError:
        pass
    return tuple(errors)


def main(argv: list[str] | None = None) -> int:
    """Entry point of `read-repo`; returns the exit code (0 ok, 2 bad input, 1 failure)."""
    args = build_parser().parse_intermixed_args(argv)  # DIR -q TEXT: TEXT is the question
    if args.question is None:
        args.question = args.question_arg
    try:
        return run(args)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - every failure becomes one line unless --verbose
        if args.verbose:
            import traceback

            traceback.print_exc()
        if isinstance(exc, _user_errors()):
            _err(f"read-repo: error: {exc}")
            return EXIT_USAGE
        _err(f"read-repo: error: {_explain(exc)}")
        return EXIT_ERROR


def _explain(exc: BaseException) -> str:
    """One line for a failure: the model layer's explanation when it has one."""
    try:
        from my_llm.models import explain_error

        explained = explain_error(exc)
    except ImportError:
        explained = None
    return explained or f"{type(exc).__name__}: {exc}"


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sys.exit(main())
