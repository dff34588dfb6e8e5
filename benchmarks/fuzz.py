"""Run the property tests (tests/test_fuzz_*.py) long, and say how many examples each target ran.

CI runs them with the ``ci`` Hypothesis profile (a bounded, repeatable number of examples); this
runs them with ``long`` (ten times as many, fresh seeds, failures kept in .pytest_cache/hypothesis
and tried first next time) or any profile tests/conftest.py registers:

    python benchmarks/fuzz.py                      # every target, profile long
    python benchmarks/fuzz.py --profile ci -k walk # one area, the CI budget

It prints one line per target (examples that passed, examples Hypothesis discarded as invalid,
seconds spent generating and running them) and exits with pytest's status: a failure shows the
falsifying example, to be fixed and kept as an ``@example`` of its property.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_TEST = re.compile(r"^(tests/test_fuzz_\w+\.py::\w+):\s*$")
_PHASE = re.compile(r"during (\w+) phase \(([\d.]+) seconds\)")
_COUNTS = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid")


def parse_statistics(output: str) -> dict[str, dict[str, float]]:
    """Per test: examples passing, failing and invalid, and seconds, summed over Hypothesis's phases."""
    found: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    current = None
    for line in output.splitlines():
        if match := _TEST.match(line.strip()):
            current = match[1]
        elif current and (match := _PHASE.search(line)):
            found[current]["seconds"] += float(match[2])
        elif current and (match := _COUNTS.search(line)):
            for name, value in zip(("passing", "failing", "invalid"), match.groups(), strict=True):
                found[current][name] += int(value)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="long", help="Hypothesis profile (tests/conftest.py): ci or long")
    parser.add_argument("-k", dest="select", help="only the targets pytest's -k expression selects")
    args = parser.parse_args(argv)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:logging", "--hypothesis-show-statistics",
               *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_fuzz_*.py"))]
    if args.select:
        command += ["-k", args.select]
    started = time.monotonic()
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "HYPOTHESIS_PROFILE": args.profile})
    elapsed = time.monotonic() - started
    stats = parse_statistics(run.stdout)
    width = max((len(name) for name in stats), default=10)
    print(f"{'target':<{width}}  {'examples':>8}  {'invalid':>7}  {'seconds':>7}")
    for name, counts in sorted(stats.items()):
        print(f"{name:<{width}}  {int(counts['passing']):>8}  {int(counts['invalid']):>7}  {counts['seconds']:>7.1f}")
    total = sum(int(c["passing"]) for c in stats.values())
    print(f"{len(stats)} targets, {total} examples, profile {args.profile}, {elapsed:.0f} s in all")
    if run.returncode != 0:
        print(failures(run.stdout), run.stderr[-5000:], sep="\n", file=sys.stderr)
    return run.returncode


def failures(output: str) -> str:
    """pytest's FAILURES section (the falsifying examples), without the statistics that follow it."""
    start = output.find("= FAILURES =")
    if start < 0:
        return output[-20000:]
    start = output.rfind("\n", 0, start) + 1
    end = output.find("Hypothesis Statistics", start)
    return output[start:end if end > 0 else None][-40000:]


if __name__ == "__main__":
    raise SystemExit(main())
