"""complete-file: complete a half-written Python file, checked by analyzers (and tests, if any).

A command of its own rather than ``create-script --complete``: create-script's two positional
arguments (a prompt, an output file to create), its test-writing step (exit code 3) and its
package installing have no meaning here, and a flag would make every one of them optional and
conditional. An editor calls ``complete-file FILE --line N --column C --json``.

Exit codes: 0 a completion was accepted (and written with --write); 1 none was accepted within
the budget (the best is shown as a diff and kept in the run folder); 2 bad input or
configuration (one line; --verbose adds the traceback); 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from langchain_core.messages import AIMessage, BaseMessage
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax
from rich.table import Table

from code_generation.completion.analyzers import DEFAULT_ANALYZERS, available
from code_generation.completion.api import CompletionResult, CompletionSettings, complete_file
from code_generation.completion.search import Candidate
from code_generation.validate_input import (
    candidates_type,
    max_iterations_type,
    seed_type,
    temperature_type,
    timeout_type,
)
from my_llm.errors import MyLLMError
from my_llm.models.usage import CallUsage
from my_llm.user_input import OneLineParser, add_common_flags, int_in

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _analyzer_list(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in available()]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown analyzer {', '.join(unknown)}: choose from {', '.join(available())}")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="complete-file", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                           description="Complete a partial Python file at its end or at a line; analyzers "
                                       "(and your tests, if given) check each completion.")
    parser.add_argument("file", type=Path, help="the .py file to complete")
    parser.add_argument("--line", type=int_in(1, 10**7), default=None, help="complete at this 1-based line (a `# TODO` line there is replaced); default: the end of the file")
    parser.add_argument("--column", type=int_in(0, 10**6), default=None, help="with --line: the 0-based column of the cursor")
    parser.add_argument("--test_file", "--test-file", dest="test_file", type=Path, default=None, help="a unittest file the completed file must pass")
    parser.add_argument("--write", action="store_true", help="replace the file (atomically; the old one is kept in the run folder) when a completion is accepted; without it, print the diff")
    parser.add_argument("--prompt", dest="instruction", default=None, help="what the code at the insertion point should do, if the file does not say")
    parser.add_argument("--analyzers", type=_analyzer_list, default=DEFAULT_ANALYZERS, help=f"comma-separated, from {', '.join(available())}")
    parser.add_argument("--model", default=None, help="local | local:/path/model.gguf | openai:<model> (default: $MY_LLM_MODEL, else OpenAI if OPENAI_API_KEY is set, else local)")
    parser.add_argument("--base-url", default=None, help="OpenAI-compatible server URL")
    parser.add_argument("--max-iterations", type=max_iterations_type, default=4, help="rounds of the search (1-100)")
    parser.add_argument("--candidates", type=candidates_type, default=None, help="completions per round (default: the model's profile)")
    parser.add_argument("--agreement", action=argparse.BooleanOptionalAction, default=None, help="of the completions every analyzer accepts, keep the one whose results most others share on inputs the model proposes, 4 candidates a round unless --candidates says (default: on for the embedded model, off for remote ones)")
    parser.add_argument("--temperature", type=temperature_type, default=0.2, help="sampling temperature of the first round")
    parser.add_argument("--seed", type=seed_type, default=None, help="sampling seed, for reproducible runs")
    parser.add_argument("--timeout", type=timeout_type, default=30.0, help="seconds allowed for each sandboxed run (tests, examples)")
    parser.add_argument("--run-dir", type=Path, default=None, help="folder for this run's record (default .create_script/runs/<time>-complete-<file>/)")
    parser.add_argument("--no-cache", action="store_true", help="always ask the model")
    parser.add_argument("--no-memory", action="store_true", help="do not log messages to the shared message history")
    add_common_flags(parser, "show every finding and tracebacks")
    parser.add_argument("--json", action="store_true", help="print one JSON object with the result on stdout")
    return parser


class ConsoleProgress:
    """Tells the user on stderr what the search is doing."""

    def __init__(self, console: Console, verbose: bool) -> None:
        self.console, self.verbose = console, verbose

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        self.console.print(f"[dim]  {label}: {usage.tokens_in} tokens in, {usage.tokens_out} out, {usage.seconds:.1f} s[/dim]")

    def candidate(self, candidate: Candidate, best: Candidate | None) -> None:
        analysis = candidate.analysis
        if analysis is None:
            self.console.print(f"  candidate {candidate.id}: [yellow]{escape('; '.join(candidate.notes))}[/yellow]")
            return
        colour = "green" if analysis.accepted else "red" if analysis.errors else "yellow"
        tests = f", tests {analysis.tests_passed}/{analysis.tests_run}" if analysis.tests_run else ""
        verdict = "accepted" if analysis.accepted else f"{len(analysis.errors)} error(s)"
        self.console.print(f"  candidate {candidate.id}: [{colour}]{verdict}[/{colour}], {len(analysis.advice)} advice{tests}")
        shown = analysis.findings if self.verbose else analysis.errors[:3]
        for finding in shown:
            self.console.print(f"[dim]    {escape(str(finding))}[/dim]")

    def event(self, message: str) -> None:
        self.console.print(f"[cyan]{escape(message)}[/cyan]")


def _summary(result: CompletionResult) -> Table:
    table = Table(show_header=False, box=None)
    table.add_row("Result", "[green]accepted[/green]" if result.accepted else "[red]not accepted[/red]")
    table.add_row("Model", result.model)
    table.add_row("Rounds", f"{result.iterations} ({result.candidates} candidates, {result.backtracks} backtracks)")
    if result.tests_total:
        table.add_row("Tests passed", f"{result.tests_passed}/{result.tests_total}")
    table.add_row("Findings left", f"{len(result.errors)} errors, {len(result.advice)} advice")
    table.add_row("Tokens", f"{result.tokens_in} in, {result.tokens_out} out")
    table.add_row("Cost", "unknown for this model" if result.cost_usd is None else f"${result.cost_usd:.5f}")
    table.add_row("Time", f"{result.seconds:.1f} s")
    table.add_row("File", f"{result.file} ({'written' if result.written else 'unchanged'})")
    table.add_row("Run folder", result.run_dir)
    return table


def _settings(args: argparse.Namespace) -> CompletionSettings:
    return CompletionSettings(
        file=args.file, line=args.line, column=args.column, test_file=args.test_file, write=args.write,
        instruction=args.instruction, analyzers=args.analyzers, model=args.model, base_url=args.base_url,
        max_iterations=args.max_iterations, candidates=args.candidates, agreement=args.agreement,
        temperature=args.temperature, seed=args.seed,
        timeout=args.timeout, cache=not args.no_cache, run_dir=args.run_dir, verbose=args.verbose,
        memory=not args.no_memory,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        progress = Console(stderr=True, highlight=False, soft_wrap=True, quiet=args.quiet)
        result = complete_file(_settings(args), observer=ConsoleProgress(progress, args.verbose))
    except KeyboardInterrupt:
        err.print("[yellow]Interrupted: the run folder keeps what was done; the file is unchanged.[/yellow]")
        return EXIT_INTERRUPTED
    except MyLLMError as exc:
        if args.verbose:
            err.print_exception()
        err.print(f"complete-file: [red]error:[/red] {escape(' '.join(str(exc).split()))}")
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps(result.to_dict()))
        return result.exit_code
    if result.diff and not result.written:
        Console(highlight=False).print(Syntax(result.diff, "diff", theme="ansi_dark", word_wrap=True))
    err.print(("" if result.accepted else "[red]") + escape(result.message) + ("" if result.accepted else "[/red]"))
    err.print(_summary(result))
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
