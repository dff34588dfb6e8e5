"""The analyzers on real code: the standard library and installed packages (platformdirs, rich)."""

from __future__ import annotations

import pytest

from code_generation.completion.analysis import Analyst
from code_generation.completion.analyzers import AnalysisInput, Report, available, create, register
from code_generation.completion.splice import locate

HEAD = "import json\nimport os\nimport re\n\nimport platformdirs\nfrom rich.text import Text\n\n\ndef helper(a, b, *, strict=False):\n    return a\n\n\ndef task(path):\n"


def findings(analyzer: str, completion: str, head: str = HEAD) -> list[str]:
    doc = locate(head.encode())
    analysis = Analyst(create([analyzer]), doc, "task_module", None).analyze(completion)
    return [f.message for f in analysis.findings]


def test_registry_knows_the_built_in_analyzers_and_refuses_others() -> None:
    assert {"pyflakes", "mypy", "signature", "hallucination", "doctest", "tests"} <= set(available())
    with pytest.raises(ValueError, match="unknown analyzer nope"):
        create(["nope"])


@pytest.mark.parametrize(
    ("call", "why"),
    [
        ("json.loads(path, True)", "too many positional arguments"),  # stdlib, keyword-only after s
        ("os.path.join(path, sep='/')", "unexpected keyword argument 'sep'"),
        ("path.split(',', 1, 2)", None),  # `path`'s type is unknown: not judged
        ("'a,b'.split(',', 1, 2)", "too many positional arguments"),  # a builtin method, bound
        ("helper(1)", "missing a required argument: 'b'"),  # a name defined earlier in the file
        ("helper(1, 2, 3)", "too many positional arguments"),
        ("platformdirs.user_cache_dir('app', colour=1)", "unexpected keyword argument 'colour'"),  # installed package
        ("Text('x', style='bold', justify='left', nope=1)", "unexpected keyword argument 'nope'"),  # a class's __init__
    ],
)
def test_signature_flags_calls_that_do_not_fit(call: str, why: str | None) -> None:
    found = findings("signature", f"    return {call}\n")
    if why is None:
        assert found == []
    else:
        assert len(found) == 1 and why in found[0] and "does not fit the signature" in found[0]


@pytest.mark.parametrize(
    "call",
    ["json.loads(path, strict=False)", "os.path.join(path, 'a', 'b')", "helper(1, 2, strict=True)",
     "platformdirs.user_cache_dir('app', 'me', '1.0')", "Text('x', style='bold')", "re.sub(r'a', 'b', path, count=1)",
     "helper(*[1, 2])", "helper(**{'a': 1, 'b': 2})", "print(path, sep='', end='')", "max([1, 2], key=len)"],
)
def test_signature_accepts_calls_that_fit(call: str) -> None:
    assert findings("signature", f"    return {call}\n") == []


def test_signature_shows_the_real_signature_without_annotations() -> None:
    [message] = findings("signature", "    return os.path.join(path, sep='/')\n")
    assert "`join(path, /, *paths)`" in message


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("    return os.path.exist(path)\n", "`os.path` has no attribute `exist`; did you mean `exists`"),
        ("    return re.serch('a', path)\n", "`re` has no attribute `serch`; did you mean `search`"),
        ("    return platformdirs.user_cache_folder('a')\n", "`platformdirs` has no attribute `user_cache_folder`"),
        ("    return Text('x').plaintext\n", "has no attribute `plaintext`; did you mean `plain`"),
        ("    return 'abc'.uppercase()\n", "has no attribute `uppercase`; did you mean `upper`"),
        ("    from collections import OrderedSet\n    return OrderedSet()\n", "`collections` has no name `OrderedSet`; did you mean `OrderedDict`"),
        ("    import reqeusts\n    return reqeusts\n", "module `reqeusts` does not exist"),
        ("    from jsonn import loads\n    return loads(path)\n", "module `jsonn` does not exist; did you mean `json`"),
    ],
)
def test_hallucination_names_what_does_not_exist_and_the_nearest_real_names(code: str, expected: str) -> None:
    found = findings("hallucination", code)
    assert any(expected in f for f in found), found


@pytest.mark.parametrize(
    "code",
    ["    return os.path.exists(path)\n", "    return re.match('a', path).group(0)\n",
     "    return platformdirs.user_cache_path('a')\n", "    return Text('x').plain\n",
     "    from collections import OrderedDict\n    return OrderedDict()\n",
     "    import email.mime.text\n    return email.mime.text.MIMEText('x')\n",
     "    class Box:\n        pass\n    box = Box()\n    box.anything = 1\n    return box.anything\n",
     "    return path.whatever\n"],  # unknown type: never judged
)
def test_hallucination_is_quiet_on_real_names(code: str) -> None:
    assert findings("hallucination", code) == []


def test_pyflakes_reports_only_what_the_completion_added() -> None:
    head = "import os\nimport sys\n\n\ndef f(x):\n    y = undefined_before\n"  # the user's own problems
    found = findings("pyflakes", "    return sys.argv + missing\n", head)
    assert found == ["undefined name 'missing'"]  # not os unused, not undefined_before


def test_mypy_reports_type_errors_as_advice() -> None:
    doc = locate(b"def f(x: int) -> str:\n")
    analysis = Analyst(create(["mypy"]), doc, "m", None).analyze("    return x\n")
    assert analysis.errors == [] and len(analysis.advice) == 1
    assert "Incompatible return value type" in analysis.advice[0].message
    assert analysis.accepted  # advice never blocks


def test_doctest_runs_the_completed_function_examples_in_the_sandbox() -> None:
    head = 'def add(a, b):\n    """\n    >>> add(2, 2)\n    4\n    """\n'
    doc = locate(head.encode())
    analyst = Analyst(create(["doctest"]), doc, "m", None)
    wrong = analyst.analyze("    return a * b + 1\n")
    assert [f.message for f in wrong.errors] == ["the examples in the docstring of `add` fail"]
    assert "Expected:\n    4\nGot:\n    5" in wrong.reports[0].detail
    assert analyst.analyze("    return a + b\n").accepted


def test_tests_analyzer_counts_the_users_tests() -> None:
    tests = "import unittest\nfrom calc import add\n\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n    def test_zero(self):\n        self.assertEqual(add(0, 0), 0)\n"
    doc = locate(b"def add(a, b):\n")
    analyst = Analyst(create(["tests"]), doc, "calc", None, tests, "test_calc.py")
    wrong = analyst.analyze("    return a * b\n")
    assert (wrong.tests_run, wrong.tests_passed) == (2, 1) and not wrong.accepted
    assert "test_add" in wrong.reports[0].detail
    right = analyst.analyze("    return a + b\n")
    assert right.accepted and right.score()[1] == 1.0


def test_a_new_analyzer_plugs_in_by_name() -> None:
    @register("no-print")
    class NoPrint:
        name = "no-print"
        subtract_baseline = False

        def analyze(self, source: AnalysisInput) -> Report:
            from code_generation.types import Finding

            lines = source.text.splitlines()[source.first_line - 1 : source.last_line]
            return Report(self.name, [Finding(source.first_line + i, "no print in library code", True, self.name)
                                      for i, line in enumerate(lines) if "print(" in line])

    doc = locate(b"def f():\n")
    analyst = Analyst(create(["no-print"]), doc, "m", None)
    assert not analyst.analyze("    print(1)\n").accepted
    assert analyst.analyze("    return 1\n").accepted


def test_the_same_file_analyzed_again_after_another_still_gets_its_findings() -> None:
    # A jedi Script kept and used again after others were made answered nothing (a real bug, seen).
    first = findings("signature", "    return json.loads(path, True)\n")
    findings("signature", "    return os.path.join(path, 'a')\n")
    assert findings("signature", "    return json.loads(path, True)\n") == first and len(first) == 1


@pytest.mark.parametrize("stub", ["    # Your code here\n    pass\n", "    ...\n", "    raise NotImplementedError\n", "    # later\n"])
def test_a_completion_that_writes_nothing_is_never_accepted(stub: str) -> None:
    doc = locate(b"def f(x):\n")
    analysis = Analyst([], doc, "m", None).analyze(stub)  # not even with no analyzers at all
    assert not analysis.accepted and "writes no code" in analysis.errors[0].message
    assert Analyst([], doc, "m", None).analyze("    return x\n").accepted
