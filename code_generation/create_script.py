"""create-script: write a Python module (or a Rust library) with an LLM until your tests pass.

A thin shell over `code_generation.api.generate_script`: arguments -> settings -> engine.
Exit codes: 0 tests pass; 1 budget spent without passing; 2 bad input or configuration;
3 a test file was written and awaits review; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as `python code_generation/create_script.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from code_generation.api import ScriptResult, ScriptSettings, generate_script
from code_generation.console import ConsoleProgress
from code_generation.languages import language_for
from code_generation.script_settings import DEFAULT_GIVE_UP_AFTER, DEFAULT_TIME_BUDGET
from code_generation.validate_input import (
    candidates_type,
    give_up_after_type,
    language_type,
    max_iterations_type,
    seed_type,
    tactics_type,
    temperature_type,
    time_budget_type,
    timeout_type,
)
from my_llm import config
from my_llm.errors import MyLLMError
from my_llm.user_input import OneLineParser, add_common_flags

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="create-script",
        description="Create a Python module (or a Rust library: a .rs output) from a prompt and a test file; iterate with an LLM until the tests pass.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("prompt", help="what the module should do")
    parser.add_argument("output_file", type=Path, help="the module to write (NAME.py), or a Rust library (NAME.rs, src/lib.rs); the extension chooses the language")
    parser.add_argument(
        "--test_file", "--test-file", dest="test_file", type=Path, default=None,
        help="unittest file the module must pass (Rust: a file of #[test] functions; default: test_<output name> beside the output, or <crate>/tests/test_<name>.rs for a Rust <crate>/src/<name>.rs); written for review if missing",
    )
    parser.add_argument("--lang", type=language_type, default=None, help="python | rust (default: from the output file's extension, .py or .rs)")
    parser.add_argument("--crate-source", default=None, help="Rust: offline crates for dependencies, a vendored folder or a local registry, or 'none' (default: $CREATE_SCRIPT_CRATE_SOURCE, else /usr/share/cargo/registry when it exists)")
    parser.add_argument("--model", default=None, help="local | local:/path/model.gguf | openai:<model> (default: $MY_LLM_MODEL, else OpenAI if OPENAI_API_KEY is set, else local)")
    parser.add_argument("--base-url", default=None, help="OpenAI-compatible server URL (Ollama, vLLM, llama.cpp server); default $OPENAI_BASE_URL")
    parser.add_argument("--max-iterations", type=max_iterations_type, default=None, help="generation attempts before giving up (1-100; default: the config's max_iterations, else 5)")
    parser.add_argument("--time-budget", type=time_budget_type, default=None, metavar="SECONDS", help="stop the search after about this many seconds, or after --max-iterations rounds, whichever comes first (no round starts that would not fit; 0: no limit; default: the config's time_budget, else 600)")
    parser.add_argument("--give-up-after", type=give_up_after_type, default=None, metavar="ROUNDS", help="also stop once this many rounds in a row found nothing better than the best attempt (0: never; default: the config's give_up_after, else 3)")
    parser.add_argument("--temperature", type=temperature_type, default=0.2, help="sampling temperature of the first attempt (0-2)")
    parser.add_argument("--seed", type=seed_type, default=None, help="sampling seed, for reproducible runs")
    parser.add_argument("--candidates", type=candidates_type, default=None, help="programs sampled per iteration, at once on the model's parallel slots; the best is kept (default: 2 on the embedded model, else 1)")
    parser.add_argument("--typecheck", action="store_true", help="also run mypy on each program; its findings join the feedback (implies --static-checks)")
    parser.add_argument("--static-checks", action="store_true", help="check each program with pyflakes first: undefined names and syntax errors skip the test run, findings join the feedback")
    parser.add_argument("--allow-install", action="store_true", help="when the code imports a missing third-party package, pip-install it (wheels only) into a temporary per-run environment, never yours, and rerun the tests there")
    parser.add_argument("--conversation", choices=["latest", "append"], default=None, help="feedback rounds restate the latest attempt, or append to the conversation that produced it so a prompt cache serves the history (default: the model's profile, latest for every shipped tier)")
    parser.add_argument("--tactics", type=tactics_type, default=None, help="comma list of the loop's small-model tactics, e.g. skeleton,prefill,focus (default: the model's own set; 'none' for none; see docs/tactics.md)")
    parser.add_argument("--timeout", type=timeout_type, default=30.0, help="seconds allowed for each test run (at most 3600)")
    parser.add_argument("--yes", action="store_true", help="when the test file is generated, use it without stopping for review")
    parser.add_argument("--run-dir", type=Path, default=None, help="folder for this run's record (default .create_script/runs/<time>-<slug>/)")
    parser.add_argument("--no-cache", action="store_true", help="always ask the model; by default a request made before at temperature 0 or with the same --seed is answered from the disk cache")
    parser.add_argument("--no-memory", action="store_true", help="do not log messages to the shared message history")
    add_common_flags(parser, "show extraction notes, sandbox isolation, feedback, and tracebacks")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the result on stdout at the end")
    return parser


# Why an unsolved run stopped, as the summary says it (LoopOutcome.stop_reason).
STOPPED = {
    "budget": "every round of --max-iterations was spent",
    "time budget": "the next round would not fit in --time-budget",
    "stuck": "the same tests kept failing round after round",
    "no progress": "rounds in a row found nothing better than the best attempt: more of the same was unlikely to help",
}


def _continue_command(argv: Sequence[str]) -> str:
    return shlex.join(["create-script", *[a for a in argv if a != "--yes"]])


def _summary(result: ScriptResult) -> Table:
    table = Table(show_header=False, box=None)
    verdict = {"passed": "[green]all tests pass[/green]", "failed": "[red]not solved[/red]", "tests_written": "[yellow]test file written, awaiting review[/yellow]"}
    table.add_row("Result", verdict[result.status])
    table.add_row("Model", result.model)
    table.add_row("Iterations", str(result.iterations))
    if result.tests_total:
        table.add_row("Tests passed", f"{result.tests_passed}/{result.tests_total}")
    table.add_row("Tokens", f"{result.tokens_in} in, {result.tokens_out} out")
    table.add_row("Cost", "unknown for this model" if result.cost_usd is None else f"${result.cost_usd:.5f}")
    table.add_row("Time", f"{result.seconds:.1f} s")
    if result.status == "failed" and result.stop_reason in STOPPED:
        table.add_row("Stopped", STOPPED[result.stop_reason])
    table.add_row("Output", result.output_file if result.success else "(not written)")
    table.add_row("Run folder", result.run_dir)
    return table


def _int_setting(key: str) -> int | None:
    found = config.value(key)
    return int(found) if found is not None else None  # ranges are checked as the flags' (validate_input)


def _limit(flag: float | None, key: str, default: float) -> float:
    """The flag, else the config's key, else the default, as the default's type (0: the limit is off)."""
    if flag is not None:
        return flag
    found = config.value(key)
    return default if found is None else type(default)(found)


def _settings(args: argparse.Namespace) -> ScriptSettings:
    """The run's settings: the flags, else the environment and config files (my_llm/config.py)."""
    return ScriptSettings(
        prompt=args.prompt,
        output_file=args.output_file,
        test_file=args.test_file,
        model=args.model or config.text("model"),
        base_url=args.base_url or config.text("base_url"),
        max_iterations=args.max_iterations or _int_setting("max_iterations") or 5,
        time_budget=_limit(args.time_budget, "time_budget", DEFAULT_TIME_BUDGET),
        give_up_after=int(_limit(args.give_up_after, "give_up_after", DEFAULT_GIVE_UP_AFTER)),
        temperature=args.temperature,
        timeout=args.timeout,
        seed=args.seed,
        candidates=args.candidates or _int_setting("candidates"),
        static_checks=args.static_checks,
        typecheck=args.typecheck,
        allow_install=args.allow_install,
        cache=not args.no_cache,
        yes=args.yes,
        run_dir=args.run_dir,
        verbose=args.verbose,
        memory=not args.no_memory,
        tactics=args.tactics,
        conversation=args.conversation,
        language=args.lang,
        crate_source=args.crate_source,
    )


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    out = Console(highlight=False)
    try:
        settings = _settings(args)
    except MyLLMError as exc:  # a config file that cannot be read or holds a wrong value
        err.print(f"create-script: [red]error:[/red] {escape(' '.join(str(exc).split()))}")
        return EXIT_BAD_INPUT
    try:
        progress = Console(stderr=True, highlight=False, soft_wrap=True, quiet=args.quiet)
        result = generate_script(settings, observer=ConsoleProgress(progress, args.verbose))
    except KeyboardInterrupt:
        err.print("[yellow]Interrupted: the run folder keeps what was done; no output was written.[/yellow]")
        return EXIT_INTERRUPTED
    except MyLLMError as exc:
        if args.verbose:
            err.print_exception()
        err.print(f"create-script: [red]error:[/red] {escape(' '.join(str(exc).split()))}")  # one line, even from a multi-line cause
        return EXIT_BAD_INPUT

    if result.status == "tests_written":
        err.print(f"\nWrote [bold]{result.test_file}[/bold]; check it, because it becomes the judge:\n")
        fence = language_for(settings.output_file, settings.language).fence
        err.print(Syntax(Path(result.test_file).read_text(encoding="utf-8"), fence, line_numbers=True))
        err.print(f"\nThen continue with:\n  {_continue_command(argv)}")
    elif not result.success:
        err.print(f"[red]{result.message}[/red]")
    if args.json:
        payload = {k: v for k, v in result.to_dict().items() if k != "calls"}
        payload["calls"] = result.calls
        print(json.dumps(payload))
    else:
        out.print(_summary(result))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
