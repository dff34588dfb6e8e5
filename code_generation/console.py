"""What the engine is doing, told on the terminal: shared by create-script and @pseudo_function."""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.messages import AIMessage, BaseMessage
from rich.console import Console

from code_generation.types import Attempt
from my_llm.models.usage import CallUsage


class ConsoleProgress:
    """Observer that tells the user what the engine is doing, on stderr."""

    def __init__(self, console: Console, verbose: bool) -> None:
        self.console = console
        self.verbose = verbose
        self._isolation_shown = False

    def model_call(self, label: str, messages: Sequence[BaseMessage], reply: AIMessage, usage: CallUsage) -> None:
        cost = f" · ${usage.cost_usd:.5f}" if usage.cost_usd else ""
        self.console.print(
            f"[dim]  {label}: {usage.tokens_in} tokens in, {usage.tokens_out} out, {usage.seconds:.1f} s{cost}[/dim]"
        )

    def attempt(self, attempt: Attempt, best: Attempt | None) -> None:
        if attempt.blocked:
            first = next(f for f in attempt.findings if f.critical)
            self.console.print(f"  attempt {attempt.label}: [yellow]static check: {first}[/yellow], tests not run")
        elif attempt.result is None:
            self.console.print(f"  attempt {attempt.label}: [yellow]no code in the reply[/yellow], asking again")
        elif attempt.result.status == "tampered":
            self.console.print(f"  attempt {attempt.label}: [red]rejected, it tampered with the tests[/red]: "
                               f"{attempt.result.message.split(': ', 1)[-1]}")
        else:
            r = attempt.result
            colour = "green" if r.success else "red"
            extra = "" if r.status == "ok" else f" ({r.status})"
            best_note = f"; best so far {best.passed}/{best.result.tests_run}" if best and best.result and best is not attempt else ""
            self.console.print(
                f"  attempt {attempt.label}: [{colour}]{r.passed}/{r.tests_run} tests passed{extra}[/{colour}]{best_note}"
            )
            if self.verbose and not self._isolation_shown:
                self.console.print("[dim]  sandbox: " + "; ".join(r.isolation) + "[/dim]")
                self._isolation_shown = True
            if self.verbose and r.message:
                self.console.print(f"[dim]  {r.message}[/dim]")
        if self.verbose:
            for note in attempt.notes:
                self.console.print(f"[dim]  extraction: {note}[/dim]")

    def event(self, message: str) -> None:
        self.console.print(f"[cyan]{message}[/cyan]")
