"""Checks of a Rust module's text for ways to pass its tests without computing anything.

The compiled tests compare values with ``==`` (``assert_eq!``); a module that returns a type of
its own whose ``PartialEq`` says "equal" to everything would pass them all. The sandbox's proof
cannot see that (the test function really comes back), so the text is checked before the build.

Unit-style tests share ``src/lib.rs`` with the module, after it, and a ``macro_rules!`` reaches
everything after it in the file: a module's own ``assert_eq!`` that expands to nothing would pass
every test. So a module may not take the name of a macro of the standard library (defined, or
imported ``as`` it), nor of its crates (``mod std``), nor decide whether a test that returns a value
passed (``impl Termination``). The harness's own code names std by absolute paths
(``::std::format!``), out of the module's reach (rust/package.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from code_generation.languages.rust import syntax

_ALWAYS = re.compile(r"\bfn\s+(eq|ne)\s*\([^)]*\)\s*->\s*bool\s*\{\s*(true|false)\s*\}")

STD_MACROS = frozenset({
    "assert", "assert_eq", "assert_ne", "debug_assert", "debug_assert_eq", "debug_assert_ne", "assert_matches",
    "debug_assert_matches", "panic", "unreachable", "todo", "unimplemented", "format", "format_args",
    "const_format_args", "format_args_nl", "write", "writeln", "print", "println", "eprint", "eprintln", "matches",
    "vec", "concat", "concat_idents", "concat_bytes", "stringify", "include", "include_str", "include_bytes", "env",
    "option_env", "cfg", "line", "file", "column", "module_path", "compile_error", "dbg", "try", "thread_local",
    "test", "bench", "trace_macros", "log_syntax",
})  # fmt: skip
STD_CRATES = frozenset({"std", "core", "alloc"})
_MACRO_DEFINED = re.compile(r"(?<![\w$])macro_rules\s*!\s*(\$|(?:r#)?\w+)")
_IMPORT = re.compile(r"(?<![\w:$])(?:use|extern\s+crate)\b[^;]*")
_RENAMED = re.compile(r"\bas\s+(\$|(?:r#)?\w+)")
_STD_MODULE = re.compile(r"(?<![\w:$])mod\s+(?:r#)?(std|core|alloc)\b")
_TERMINATION = re.compile(r"\bTermination\b")
_CALLER_NAMED = ("a name its caller gives (`$name`), so it can take the name of one of the standard library's "
                 "(`assert_eq`): give your macros and imports fixed names")


def lying_equality(module_source: str) -> str | None:
    """Why the module's equality cannot be trusted (an ``eq`` that is always true, a ``ne`` that is
    always false), or None."""
    for match in _ALWAYS.finditer(syntax.mask(module_source)):
        if (match.group(1), match.group(2)) in {("eq", "true"), ("ne", "false")}:
            return (f"a PartialEq whose `{match.group(1)}` always returns {match.group(2)} makes every "
                    "comparison of the tests pass (line " f"{syntax.line_of(module_source, match.start())})")
    return None


def _macro_named_like_std(source: str, masked: str) -> str | None:
    """A ``macro_rules!`` that takes a std macro's name (or one its caller gives), or None."""
    for match in _MACRO_DEFINED.finditer(masked):
        name, line = match.group(1).removeprefix("r#"), syntax.line_of(source, match.start())
        if name == "$":
            return f"the module defines a macro whose name is {_CALLER_NAMED} (line {line})"
        if name in STD_MACROS:
            return (f"the module defines its own `{name}!` (line {line}), which replaces the standard library's "
                    f"`{name}!` in the tests: use the standard `{name}!`, and give your own macros other names")
    return None


def _import_named_like_std(source: str, masked: str) -> str | None:
    """A ``use ... as NAME`` / ``extern crate ... as NAME`` renamed to a std macro or crate, or None."""
    for statement in _IMPORT.finditer(masked):
        for match in _RENAMED.finditer(statement.group(0)):
            name = match.group(1).removeprefix("r#")
            line = syntax.line_of(source, statement.start() + match.start())
            if name == "$":
                return f"the module imports something under {_CALLER_NAMED} (line {line})"
            if name in STD_MACROS or name in STD_CRATES:
                return (f"the module imports something as `{name}` (line {line}), which replaces the standard "
                        f"library's `{name}` in the tests: import it under another name")
    return None


# Names a library has no use for, that would reach into how the tests are run: a `mod std` (or
# core, alloc) that paths meant for the standard library would reach, and `Termination`.
_FORBIDDEN = (
    (_STD_MODULE, "the module defines a module named `{name}` (line {line}), which stands in for the standard "
                  "library in the tests: give it another name"),
    (_TERMINATION, "the module names `Termination` (line {line}), the trait that decides whether a test returning "
                   "a value passed: a library has no use for it"),
)


def _forbidden_name(source: str, masked: str) -> str | None:
    """The first name of _FORBIDDEN the module uses, with why, or None."""
    for pattern, message in _FORBIDDEN:
        if (match := pattern.search(masked)) is not None:
            name = match.group(1) if pattern.groups else match.group(0)
            return message.format(name=name, line=syntax.line_of(source, match.start()))
    return None


def shadowed_std(module_source: str) -> str | None:
    """Why the module could stand in for the standard library in the tests (see the module's
    docstring), or None. Comments and strings do not count: the masked text is read."""
    masked = syntax.mask(module_source)
    checks: list[Callable[[str, str], str | None]] = [_macro_named_like_std, _import_named_like_std, _forbidden_name]
    return next((reason for check in checks if (reason := check(module_source, masked)) is not None), None)


def tampering(module_source: str) -> str | None:
    """The first reason the module's text shows it would pass its tests without computing, or None."""
    return lying_equality(module_source) or shadowed_std(module_source)
