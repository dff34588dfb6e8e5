"""Missing third-party packages: feedback to use the standard library, or a per-run install."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from code_generation.api import DependencyInstaller
from code_generation.engine.loop import LoopSettings, run_loop
from code_generation.languages.python.feedback import missing_module
from code_generation.sandbox.runner import SandboxLimits, run_tests
from tests.loop_fixtures import RIGHT, Spy, task

# A small wheel-only package that is not among our dependencies.
PACKAGE = "tomli_w"
# The right program, but it also uses the package.
NEEDS_PACKAGE = RIGHT.replace("```python\n", f"```python\nimport {PACKAGE}\n\n").replace(
    "    return sum(primes)", f"    {PACKAGE}.dumps({{'n': n}})\n    return sum(primes)"
)
assert f"{PACKAGE}.dumps" in NEEDS_PACKAGE
SETTINGS = LoopSettings(max_iterations=2, limits=SandboxLimits(timeout=30))


def test_missing_module_names_third_party_packages_only() -> None:
    def result_of(code: str):
        return run_tests(code, "prime_numbers", "import unittest\nfrom prime_numbers import f\n"
                         "class T(unittest.TestCase):\n    def test_f(self):\n        f()\n", "test_prime_numbers.py")

    assert missing_module(result_of("import not_a_real_package_xyz\ndef f(): pass\n"), "prime_numbers") == "not_a_real_package_xyz"
    assert missing_module(result_of("def f():\n    import not_real_either\n"), "prime_numbers") == "not_real_either"
    assert missing_module(result_of("import prime_numbers\ndef f(): pass\n"), "prime_numbers") is None
    assert missing_module(result_of("def f():\n    raise ValueError('x')\n"), "prime_numbers") is None


def test_without_install_the_feedback_asks_for_the_standard_library() -> None:
    spy = Spy()
    assert PACKAGE not in sys.modules
    outcome = run_loop(task(), FakeListChatModel(responses=[NEEDS_PACKAGE, RIGHT]), SETTINGS, observer=spy)
    assert outcome.success and outcome.iterations == 2
    assert outcome.attempts[0].result is not None and outcome.attempts[0].result.status == "import_error"
    assert f"The package `{PACKAGE}` is not installed where the tests run" in spy.prompts[1][-1].content


def test_allow_install_puts_the_package_in_a_per_run_venv_and_reruns(tmp_path: Path) -> None:
    spy = Spy()
    installer = DependencyInstaller(spy)
    try:
        outcome = run_loop(task(), FakeListChatModel(responses=[NEEDS_PACKAGE]), SETTINGS, observer=spy,
                           installer=installer)
        assert installer.python is not None and installer.folder is not None
        venv = installer.folder
        assert outcome.success and outcome.iterations == 1, spy.events
        assert any(f"installed `{PACKAGE}`" in e for e in spy.events)
        # The package went into the run's environment, not into ours.
        assert list(venv.rglob(f"{PACKAGE}/__init__.py"))
    finally:
        installer.remove()
    assert not venv.exists()
    assert importlib.util.find_spec(PACKAGE) is None
