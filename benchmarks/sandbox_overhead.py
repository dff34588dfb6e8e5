#!/usr/bin/env python
"""Benchmark the sandbox's overhead: a plain ``python test_x.py`` against runner.run_tests.

A small fixed module and its unittest file are run N times each, alternating, so that both
see the same load on the machine. Prints the median seconds of each and their ratio (target:
the sandbox at most 1.3 times the plain run), and the CPU time each used (all processes, and
for the sandbox our own share too): the sandbox's extra wall time beyond its CPU time is
processes waiting for each other, which grows with the machine's load. Writes the figures to
benchmarks/results/sandbox_overhead_<commit>.json. The exit code is 1 when the target is missed.

    python benchmarks/sandbox_overhead.py             # 30 repetitions
    python benchmarks/sandbox_overhead.py -n 100
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from code_generation.sandbox.runner import run_tests  # noqa: E402
from code_generation.sandbox.tools import run_plain  # noqa: E402

TARGET_RATIO = 1.3

MODULE = '''def prime_sum(n):
    """Sum of the first n primes."""
    primes, k = [], 2
    while len(primes) < n:
        if all(k % p for p in primes):
            primes.append(k)
        k += 1
    return sum(primes)
'''

TESTS = '''import unittest

from prime_numbers import prime_sum


class TestPrimeSum(unittest.TestCase):
    def test_five(self):
        self.assertEqual(prime_sum(5), 28)

    def test_one(self):
        self.assertEqual(prime_sum(1), 2)

    def test_hundred(self):
        self.assertEqual(prime_sum(100), 24133)


if __name__ == "__main__":
    unittest.main()
'''


def short_commit() -> str:
    """The checked-out commit, read from .git without running git."""
    git = ROOT / ".git"
    head = (git / "HEAD").read_text().strip()
    if not head.startswith("ref: "):
        return head[:7]
    ref = head[5:]
    if (git / ref).exists():
        return (git / ref).read_text().strip()[:7]
    for line in (git / "packed-refs").read_text().splitlines():
        if line.endswith(" " + ref):
            return line[:7]
    return "unknown"


def cpu_seconds() -> float:
    """CPU time of this process and of every child it waited for (and theirs)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(repetitions: int) -> dict[str, list]:
    """Wall and CPU seconds of each plain run and each sandboxed run, alternating; the sandbox's notes."""
    plain: list[float] = []
    sandboxed: list[float] = []
    cpu_plain: list[float] = []
    cpu_sandboxed: list[float] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sandbox-overhead-") as folder:
        script = Path(folder) / "test_prime_numbers.py"
        script.write_text(TESTS)
        (Path(folder) / "prime_numbers.py").write_text(MODULE)
        for i in range(repetitions + 1):  # the first pair warms caches and is not counted
            cpu = cpu_seconds()
            code, seconds = run_plain(script)
            if code != 0:
                raise SystemExit(f"the plain run failed (exit code {code})")
            cpu_mid = cpu_seconds()
            started = time.perf_counter()
            result = run_tests(MODULE, "prime_numbers", TESTS, script.name)
            elapsed = time.perf_counter() - started
            if not result.success:
                raise SystemExit(f"the sandboxed run failed: {result.status} {result.message}")
            if i:
                plain.append(seconds)
                sandboxed.append(elapsed)
                cpu_plain.append(cpu_mid - cpu)
                cpu_sandboxed.append(cpu_seconds() - cpu_mid)
            notes = result.isolation
    return {"plain": plain, "sandboxed": sandboxed, "cpu_plain": cpu_plain, "cpu_sandboxed": cpu_sandboxed,
            "isolation": notes}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--repetitions", type=int, default=30, help="runs of each kind (default 30)")
    args = parser.parse_args()
    console = Console()
    with console.status(f"running the tests {args.repetitions} times each way"):
        samples = measure(args.repetitions)
    plain, sandboxed = samples["plain"], samples["sandboxed"]
    median_plain, median_sandbox = statistics.median(plain), statistics.median(sandboxed)
    ratio = median_sandbox / median_plain
    cpu_plain, cpu_sandbox = statistics.median(samples["cpu_plain"]), statistics.median(samples["cpu_sandboxed"])
    table = Table(title=f"Sandbox overhead ({args.repetitions} runs each; load average {os.getloadavg()[0]:.1f} "
                        f"on {os.cpu_count()} CPUs)")
    table.add_column("run")
    table.add_column("median s", justify="right")
    table.add_column("min s", justify="right")
    table.add_column("max s", justify="right")
    table.add_column("median CPU s", justify="right")
    table.add_row("python test_prime_numbers.py", f"{median_plain:.4f}", f"{min(plain):.4f}", f"{max(plain):.4f}",
                  f"{cpu_plain:.4f}")
    table.add_row("runner.run_tests", f"{median_sandbox:.4f}", f"{min(sandboxed):.4f}", f"{max(sandboxed):.4f}",
                  f"{cpu_sandbox:.4f}")
    console.print(table)
    met = ratio <= TARGET_RATIO
    colour = "green" if met else "red"
    console.print(f"ratio [{colour}]{ratio:.2f}x[/{colour}] (target at most {TARGET_RATIO}x), "
                  f"{1000 * (median_sandbox - median_plain):.1f} ms more per run")
    commit = short_commit()
    out = ROOT / "benchmarks" / "results" / f"sandbox_overhead_{commit}.json"
    out.write_text(json.dumps({
        "commit": commit, "python": platform.python_version(), "machine": platform.machine(),
        "repetitions": args.repetitions, "median_plain_s": median_plain, "median_sandbox_s": median_sandbox,
        "ratio": ratio, "target_ratio": TARGET_RATIO, "target_met": met, "median_cpu_plain_s": cpu_plain,
        "median_cpu_sandbox_s": cpu_sandbox, "load_average": os.getloadavg()[0], "cpus": os.cpu_count(),
        "plain_s": plain, "sandbox_s": sandboxed, "cpu_plain_s": samples["cpu_plain"],
        "cpu_sandbox_s": samples["cpu_sandboxed"], "isolation": samples["isolation"],
    }, indent=2) + "\n")
    console.print(f"figures written to {out.relative_to(ROOT)}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
