"""The plug-in loader: built-in languages and tactics are there for every thread from the first lookup."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RACE = """
import threading
from code_generation.engine.tactics import check_tactics
from code_generation.languages import get_language

errors, barrier = [], threading.Barrier(8)

def look_up():
    barrier.wait()
    try:
        assert get_language("python").name == "python"
        assert check_tactics(["focus", "compiler_fixes"]) == ("focus", "compiler_fixes")
    except Exception as exc:
        errors.append(repr(exc))

threads = [threading.Thread(target=look_up) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(errors)
"""


def test_threads_that_look_up_at_once_all_find_the_plug_ins() -> None:
    """Eight threads of a fresh interpreter ask at the same moment (as `--jobs` does): none may
    find the registries empty while another thread is still importing the plug-ins."""
    for _ in range(3):  # a race: three fresh interpreters
        done = subprocess.run([sys.executable, "-c", RACE], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"
