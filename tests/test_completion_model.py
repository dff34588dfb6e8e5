"""End to end with the real embedded model: complete-file on a CRLF file with a TODO line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from code_generation.sandbox.runner import run_tests

pytestmark = pytest.mark.model

SOURCE = (b"import math\r\n\r\n\r\ndef hypotenuse(a, b):\r\n"
          b'    """Length of the hypotenuse of a right triangle with legs a and b."""\r\n'
          b"    # TODO: compute it\r\n\r\n\r\nLIMIT = 10\r\n")
TESTS = ("import unittest\nfrom triangle import hypotenuse\n\n\nclass T(unittest.TestCase):\n"
         "    def test_3_4(self):\n        self.assertAlmostEqual(hypotenuse(3, 4), 5.0)\n\n"
         "    def test_zero(self):\n        self.assertAlmostEqual(hypotenuse(0, 2), 2.0)\n")


def test_complete_file_writes_an_accepted_completion_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "triangle.py"
    path.write_bytes(SOURCE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "MY_LLM_MODEL"))}
    env["MY_LLM_RESPONSE_CACHE"] = str(tmp_path / "responses")
    proc = subprocess.run(
        [sys.executable, "-m", "code_generation.completion", str(path), "--line", "6", "--write", "--json",
         "--no-memory", "--seed", "1", "--model", "local", "--run-dir", str(tmp_path / "run"), "--max-iterations", "3"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300, stdin=subprocess.DEVNULL,
    )
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert proc.returncode == 0 and result["accepted"] and result["written"], proc.stderr[-2000:]
    new = path.read_bytes()
    head, tail = SOURCE.split(b"    # TODO: compute it\r\n")
    assert new.startswith(head) and new.endswith(tail) and b"# TODO" not in new
    assert b"\n" not in new.replace(b"\r\n", b"")  # the completion got the file's CRLF endings
    assert run_tests(new.decode(), "triangle", TESTS, "test_triangle.py").success
    assert (tmp_path / "run" / "previous" / "triangle.py").read_bytes() == SOURCE
