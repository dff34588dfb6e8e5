"""Kept run folders (`create_script_examples.py --keep DIR` keeps <task>/run for each task): found
and reported on alike by every analysis that reads them (stop_rules.py, run_speed.py)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path


def parse(description: str, argv: Sequence[str] | None, out_help: str) -> argparse.Namespace:
    """The shared command line: one or more kept folders, and --out."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("folders", type=Path, nargs="+", help="--keep folders of create_script_examples.py")
    parser.add_argument("--out", type=Path, default=None, help=out_help)
    return parser.parse_args(argv)


def run_files(roots: Sequence[Path]) -> list[Path]:
    """Every run.json under the given folders, in a stable order."""
    return [path for root in roots for path in sorted(root.rglob("run.json"))]


def none_found(roots: Sequence[Path]) -> int:
    """Say that there is nothing to read, and how to make some: exit status 2."""
    print(f"no run folders under {', '.join(map(str, roots))}: keep some with "
          "create_script_examples.py --keep DIR", file=sys.stderr)
    return 2
