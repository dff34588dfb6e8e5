"""An audit hook, inside the sandboxed process, that refuses what lets the code under test read or
rewrite the harness: stack frames, the garbage collector's objects, ctypes, trace functions, the
process's memory, patches to code it does not own, code that claims to come from another file.

The harness keeps the run's secrets (the canaries' random values, the exit code of a finished
run) in its own frames only, so reading them takes one of these. ``sys.addaudithook`` hooks
cannot be removed; this one is added before the test file is imported and judges each event by
the code that asked for it. Walking outwards from the event through library code (the standard
library and installed packages, which act for their caller), the first frame decides: the
harness's and the test file's code (known by identity: code object and globals) may; anything
else (the module under test, code it compiled, a thread of its own) may not. There the hook
raises ``Refused`` and reports the first refusal on the signed channel, which makes the run
``tampered``. A few library functions read frames for their own use and hand none on
(``namedtuple``, ``logging``, ``traceback.format_exc`` ...): those may, whoever called them.

Signal handlers receive the interrupted frame, and no audit event says when one is installed:
``signal.signal`` is wrapped so that every Python handler installed from now on is called with
``None`` for the frame, and a second copy of ``_signal`` (through ``_imp.create_builtin``),
which would bypass the wrapper, is refused. What the hook cannot see is listed in
docs/sandbox-holes.md.

The hook never runs code the module could have defined: exact types are checked before any
attribute is read, code objects are looked up by id and compared by identity, and strings are
compared with ``str``'s own methods. Standard library only (see _sandbox_harness.py).
"""

from __future__ import annotations

import functools
import os
import sys
import types
from collections.abc import Callable

FrameType, FunctionType, CodeType = types.FrameType, types.FunctionType, types.CodeType
FRAME_ATTRS = {"tb_frame": "a traceback's tb_frame", "gi_frame": "a generator's gi_frame",
               "cr_frame": "a coroutine's cr_frame", "ag_frame": "an async generator's ag_frame"}
CTYPES = frozenset({
    "ctypes.addressof", "ctypes.call_function", "ctypes.cdata", "ctypes.cdata/buffer", "ctypes.create_string_buffer",
    "ctypes.create_unicode_buffer", "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.get_errno",
    "ctypes.set_errno", "ctypes.get_last_error", "ctypes.set_last_error", "ctypes.PyObj_FromPtr",
    "ctypes.seh_exception", "ctypes.string_at", "ctypes.wstring_at",
})
KINDS = {
    **dict.fromkeys(("sys._getframe", "sys._current_frames", "sys._current_exceptions"), "frames"),
    **dict.fromkeys(("gc.get_objects", "gc.get_referrers", "gc.get_referents"), "gc"),
    **dict.fromkeys(("sys.settrace", "sys.setprofile"), "trace"),
    **dict.fromkeys(CTYPES, "ctypes"),
    "sys.addaudithook": "hook",
}
WATCHED = frozenset({*KINDS, "object.__getattr__", "open", "os.symlink", "os.link", "object.__setattr__",
                     "object.__delattr__", "compile", "sandbox.compile", "code.__new__", "marshal.loads",
                     "sandbox.create_builtin", "sandbox.refused"})
FUNCTION_PARTS = frozenset({"__code__", "__defaults__", "__kwdefaults__"})
# The testing framework's modules (unittest but its mock, which tests use to patch), the harness's, doctest.
PROTECTED_MODULES = ("unittest.case", "unittest.result", "unittest.suite", "unittest.loader", "unittest.runner",
                     "unittest.util", "unittest.signals", "unittest.async_case", "unittest.main", "_sandbox_", "doctest")
RECREATED = frozenset({"_imp", "_signal"})  # built-in modules whose second copy would bypass the wrappers
# Library functions that read frames (or, doctest's run, set the tracer back to none and restore it)
# for their own use and hand none on: (where, path below it,
# function) -> a condition. "stdlib" is the standard library, "site" any folder of installed
# packages. traceback's only while it keeps no locals (capture_locals); pydantic's only when the
# frame it reads is the module's own (it returns that frame's locals).
CONSUMERS = {
    **dict.fromkeys([
        ("stdlib", "collections/__init__.py", "namedtuple"), ("stdlib", "typing.py", "_caller"),
        ("stdlib", "typing.py", "TypedDict"), ("stdlib", "enum.py", "_create_"),
        ("stdlib", "logging/__init__.py", "findCaller"), ("stdlib", "logging/__init__.py", "handleError"),
        ("stdlib", "warnings.py", "warn"), ("stdlib", "traceback.py", "clear_frames"),
        ("stdlib", "traceback.py", "extract_stack"), ("stdlib", "traceback.py", "format_stack"),
        ("stdlib", "traceback.py", "print_stack"), ("stdlib", "unittest/result.py", "_is_relevant_tb_level"),
        ("stdlib", "inspect.py", "getfile"), ("stdlib", "inspect.py", "findsource"),
        ("stdlib", "inspect.py", "getsourcelines"), ("stdlib", "inspect.py", "_get_code_position_from_tb"),
        ("stdlib", "inspect.py", "getframeinfo"), ("stdlib", "inspect.py", "getgeneratorstate"),
        ("stdlib", "inspect.py", "getcoroutinestate"), ("stdlib", "doctest.py", "_find_lineno"),
        ("stdlib", "doctest.py", "_normalize_module"), ("stdlib", "doctest.py", "run"),
        ("stdlib", "asyncio/coroutines.py", "_format_coroutine"),
        ("stdlib", "asyncio/format_helpers.py", "extract_stack"), ("stdlib", "asyncio/events.py", "__init__"),
        ("stdlib", "asyncio/futures.py", "__init__"), ("stdlib", "asyncio/streams.py", "__init__"),
        ("stdlib", "dis.py", "distb"), ("stdlib", "dis.py", "from_traceback"), ("stdlib", "gettext.py", "_as_int"),
        ("stdlib", "subprocess.py", "_text_encoding"), ("site", "typing_extensions.py", "_caller"),
        ("site", "typing_extensions.py", "_has_generic_or_protocol_as_origin"),
    ], "always"),
    ("stdlib", "traceback.py", "_extract_from_extended_frame_gen"): "no locals",
    ("site", "pydantic/_internal/_typing_extra.py", "parent_frame_namespace"): "own frame",
}
# Registered code: the harness's, the test file's, code that asks for its caller (the wrappers below),
# code that never may (the relay that calls a signal handler).
HARNESS, TESTS, PASS, DENY = 0, 1, 2, 3
# What the harness's or the test file's frames do not make allowed, though they are running: the
# consumers above and a library's own import still may. Trusting whichever frame is on top would
# lend that trust to C-level callables the module plants (a weakref.finalize of map(sys._getframe,
# ...), of setattr(f, "__code__", ...)), and the harness never asks for these itself (it traces only
# in trace mode, which its own code starts). The test file keeps ctypes and /proc/self/mem (a test
# may crash its process on purpose): ctypes reaches any memory without an audited call anyway.
STRICT = {HARNESS: frozenset({"frames", "gc", "ctypes", "hook", "memory", "patch", "code", "builtin"}),
          TESTS: frozenset({"frames", "gc", "hook", "patch", "code", "builtin", "trace"})}

REASONS = {
    "ctypes": "it used ctypes ({what}), which the sandbox refuses: compute the result in plain Python",
    "gc": "it searched the garbage collector's objects ({what}), which the sandbox refuses: work only with the "
          "values your functions are given",
    "frames": "it read stack frames ({what}), which the sandbox refuses: compute the result from the function's "
              "arguments, not from its callers' frames (sys._getframe, inspect.stack and currentframe, a "
              "traceback's tb_frame, a generator's gi_frame are all refused)",
    "trace": "it installed a trace or profile function ({what}), which the sandbox refuses",
    "hook": "it added an audit hook ({what}), which the sandbox refuses",
    "memory": "it opened the process's memory ({what}), which the sandbox refuses",
    "patch": "it changed {what}, code it does not own, which the sandbox refuses: do not patch the tests, "
             "the testing framework or the standard library",
    "library patch": "it changed {what}, code it does not own, which the sandbox refuses: do not patch the "
                     "standard library or installed packages",
    "code": "it made code that claims to come from another file ({what}), which the sandbox refuses",
    "builtin": "it created a second copy of the built-in module {what}, which the sandbox refuses",
}


class Refused(RuntimeError):
    """Raised where the sandbox refused an operation of the code under test."""


class Registry:
    """Code the hook knows: the harness's (collected at install) and the test file's (added when compiled).

    Keyed by id(code), holding the code and the globals it must run with: a code object made to
    look like ours, or ours run with other globals, is not ours.
    """

    def __init__(self) -> None:
        self.codes: dict[int, tuple[CodeType, dict, int]] = {}

    def add(self, code: CodeType, namespace: dict, mode: int = HARNESS) -> None:
        stack = [code]
        while stack:
            item = stack.pop()
            self.codes[id(item)] = (item, namespace, mode)
            stack += [c for c in item.co_consts if type(c) is CodeType]

    def add_module(self, module: types.ModuleType) -> None:
        namespace = vars(module)
        for value in list(namespace.values()):
            owned = isinstance(value, type) and value.__module__ == module.__name__
            for member in (list(vars(value).values()) if owned else [value]):
                func = getattr(member, "__func__", member)
                if type(func) is FunctionType and func.__globals__ is namespace:
                    self.add(func.__code__, namespace)


def install(report: Callable[[dict], None], workdir: str, test_file: str | None) -> Callable[[CodeType, dict], None]:
    """Add the hook and the signal wrappers; returns the function that registers the test file's code.

    Keep what it returns out of reach of the tests (a local): it can make any code trusted.
    """
    registry = Registry()
    for name, module in list(sys.modules.items()):
        if name.startswith("_sandbox_") and module is not None:
            registry.add_module(module)
    _wrap_builtins(registry)
    sys.addaudithook(_Judge(registry, report, workdir, test_file).hook())
    return functools.partial(registry.add, mode=TESTS)


class _Judge:
    """The hook's state and decisions; only the hook's closure refers to it."""

    def __init__(self, registry: Registry, report: Callable[[dict], None], workdir: str, test_file: str | None) -> None:
        self.codes = registry.codes
        self.report = report
        self.workdir = workdir + "/"
        self.test_file = test_file or ""
        self.libraries = _library_prefixes(workdir)
        self.consumers = _consumers()
        self.loaders, self.exec_codes = _importlib_parts()
        self.refused: list[str] = []

    def hook(self) -> Callable[[str, tuple], None]:
        judge, watched, getframe, frame_attrs = self, WATCHED, sys._getframe, FRAME_ATTRS
        own: list[CodeType] = []

        def hook(event: str, args: tuple) -> None:
            if event not in watched:
                return
            if event == "object.__getattr__":  # every read of a function's __code__: keep it quick
                name = args[1]
                if type(name) is not str or name not in frame_attrs:
                    return
            if event == "sys._getframe" and type(args[0]) is FrameType and args[0].f_code is own[0]:
                return  # the hook finding its own frame, below
            if event == "sandbox.refused":  # the guard asks: the first refusal, whatever became of its report
                if judge.refused:
                    raise Refused(judge.refused[0])
                return
            what = judge.concern(event, args)
            if what is not None:
                asker = judge.asker(getframe(0).f_back, what[0], args[0] if event == "sys._getframe" else None)
                if asker is not None:
                    judge.refuse(what, *asker)

        own.append(hook.__code__)
        return hook

    # ----------------------------------------------------------------- what an event is about

    def concern(self, event: str, args: tuple) -> tuple[str, str] | None:
        """(kind of refusal, what was asked) when the event matters, else None; cheap for frequent events."""
        kind = KINDS.get(event)
        if kind is not None:
            return kind, event
        first = args[0] if args else None
        if event == "object.__getattr__":
            name = args[1] if len(args) > 1 else None
            return ("frames", FRAME_ATTRS[name]) if type(name) is str and name in FRAME_ATTRS else None
        if event == "open":
            path = _text(first)
            return ("memory", path) if str.rsplit(str.rstrip(path, "/"), "/", 1)[-1] == "mem" else None
        if event == "os.symlink" or event == "os.link":
            return ("memory", "a link into /proc") if "/proc" in _text(first) else None
        if event == "object.__setattr__" or event == "object.__delattr__":
            return self._patch(first, args[1] if len(args) > 1 else None)
        if event == "marshal.loads":
            return "code", "marshal.loads of a code object"
        if event == "sandbox.create_builtin":
            return None if type(first) is str and first not in RECREATED and first not in sys.modules \
                else ("builtin", _text(first) or "?")
        filename = args[1] if len(args) > 1 else None  # compile, sandbox.compile (of an AST), code.__new__
        if event == "compile" and type(filename) is not str and not issubclass(type(first), (str, bytes)):
            return None  # an AST, whose file name this event does not give: sandbox.compile, below, does
        if type(filename) is str and not str.startswith(filename, self.libraries):
            return None
        if event == "compile" and _same_as_file(first, filename):
            return None  # a library's source compiled by an import (no cached .pyc)
        return "code", _text(filename) or "?"

    def _patch(self, target: object, name: object) -> tuple[str, str] | None:
        """A function's code or defaults, a class's special attributes, an object's class: when not the module's."""
        if type(name) is not str:
            return None
        if type(target) is FunctionType and name in FUNCTION_PARTS:
            code = target.__code__
            owner = code.co_filename
            ours = id(code) in self.codes or _protected_module(target.__globals__.get("__name__"))
            if ours:  # the harness's, the test file's, unittest's: nobody's to change
                return "patch", f"the {name} of {_label(target)}"
            mine = type(owner) is str and not str.startswith(owner, self.libraries) and owner != self.test_file
            return None if mine else ("library patch", f"the {name} of {_label(target)}")
        if issubclass(type(target), type) and _protected_class(target):  # type: ignore[arg-type]
            return "patch", f"{name} of the class {_label(target)}"
        if name == "__class__" and (issubclass(type(target), types.ModuleType) or _protected_class(type(target))):
            return "patch", f"the class of {_label(target)}"
        return None

    # ----------------------------------------------------------------- who asked

    def asker(self, frame: FrameType | None, kind: str, target: object) -> tuple[str, bool] | None:
        """Where the code that asked is ("at prime_numbers.py, line 4") and whether the module is to blame,
        or None when it may: the harness or the test file (but for STRICT kinds), a consumer, a library's import.

        ``target`` is the frame sys._getframe hands out (one consumer may read only the module's own).
        """
        while frame is not None:
            code = frame.f_code
            entry = self.codes.get(id(code))
            if entry is not None and entry[0] is code and entry[1] is frame.f_globals:
                mode = entry[2]
                if mode == DENY:
                    return "in a signal handler", True
                if mode != PASS:
                    if kind not in STRICT[mode]:
                        return None
                    if mode == HARNESS:
                        return "through a callable the harness ran", True
                    return f"at {_basename(code.co_filename)}, line {frame.f_lineno}", False
            elif self._library_import(frame):
                return None  # a library module's own code, run by its import
            else:
                name, function = code.co_filename, code.co_name
                if type(name) is not str or not str.startswith(name, self.libraries):
                    return f"at {_basename(name)}, line {frame.f_lineno}", True
                rule = self.consumers.get((name, function)) if type(function) is str else None
                if rule is not None and self._consumes(rule, frame, target):
                    return None
            frame = frame.f_back
        return "in a thread it started", True

    def _library_import(self, frame: FrameType) -> bool:
        """``frame`` is importlib's own loader running a library's file: below it, that module's import."""
        if not any(frame.f_code is code for code in self.exec_codes):
            return False
        loader = frame.f_locals.get("self")
        if not any(type(loader) is kind for kind in self.loaders):
            return False
        path = vars(loader).get("path")
        return type(path) is str and str.startswith(path, self.libraries)

    def _consumes(self, rule: str, frame: FrameType, target: object) -> bool:
        if rule == "no locals":  # traceback keeps reprs of the walked frames' locals only when asked
            value = frame.f_locals.get("capture_locals", False)
            return value is False or value is None
        if rule == "own frame":
            if type(target) is not FrameType:
                return False
            name = target.f_code.co_filename
            return type(name) is str and str.startswith(name, self.workdir) and name != self.test_file
        return True

    def refuse(self, what: tuple[str, str], where: str, module: bool) -> None:
        """Raise where it was asked; when the module is to blame, report it (once) so that the run is ``tampered``.

        The test file's own requests (refused because a strict kind is nobody's) only fail its test.
        """
        kind, detail = what
        reason = REASONS[kind].format(what=detail) + f" ({where})"
        if module and not self.refused:
            self.refused.append(reason)
            self.report({"event": "refused", "reason": reason})
        raise Refused(reason if module else f"the sandbox refused the test file this: {reason}")


def _library_prefixes(workdir: str) -> tuple[str, ...]:
    """Where the standard library and installed packages live (read-only in the sandbox), and frozen modules."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             *(p for p in sys.path if p and os.path.isabs(p))}
    prefixes = set()
    for root in roots:
        for path in (root, os.path.realpath(root)):
            path = path.rstrip("/") + "/"
            if path != "/" and not (workdir + "/").startswith(path) and not path.startswith(workdir + "/"):
                prefixes.add(path)
    return (*sorted(prefixes), "<frozen ")


def _importlib_parts() -> tuple[tuple[type, ...], tuple[CodeType, ...]]:
    """importlib's file loaders (the classes, not subclasses) and the code of their exec_module."""
    external = sys.modules.get("_frozen_importlib_external")
    if external is None:
        return (), ()
    kinds = (external.SourceFileLoader, external.SourcelessFileLoader, external.ExtensionFileLoader)
    return kinds, tuple({kind.exec_module.__code__ for kind in kinds})


def _consumers() -> dict[tuple[str, str], str]:
    """CONSUMERS by full path: below the standard library's folder and every folder of installed packages."""
    stdlib = os.path.dirname(functools.__file__ or "")
    roots = {"stdlib": {stdlib, os.path.realpath(stdlib)},
             "site": {p for p in sys.path if p.endswith(("site-packages", "dist-packages"))}}
    return {(f"{root}/{rel}", name): rule for (where, rel, name), rule in CONSUMERS.items() for root in roots[where]}


def _same_as_file(source: object, filename: object) -> bool:
    """The source a compile is given is the file's own bytes."""
    if type(source) is not bytes or type(filename) is not str:
        return False
    try:
        with open(filename, "rb") as fh:
            return bytes.__eq__(fh.read(), source) is True
    except OSError:
        return False


def _basename(path: object) -> str:
    return str.rsplit(path, "/", 1)[-1] if type(path) is str else "?"


def _text(value: object) -> str:
    """A path or name from an event, as text, without calling anything of the value's."""
    if type(value) is bytes:
        return bytes.decode(value, "utf-8", "replace")
    return value if type(value) is str else ""


def _label(target: object) -> str:
    """A name for a message, read without running code the module defined."""
    if issubclass(type(target), type):
        name = type.__dict__["__qualname__"].__get__(target)
    elif type(target) is FunctionType:
        name = target.__qualname__  # type: ignore[attr-defined]
    else:
        return "a module" if issubclass(type(target), types.ModuleType) else "an object"
    return name if type(name) is str else "?"


def _protected_module(name: object) -> bool:
    return type(name) is str and (name == "unittest" or str.startswith(name, PROTECTED_MODULES))


def _protected_class(klass: type) -> bool:
    """unittest's, the harness's and doctest's classes, and classes built on them (the tests)."""
    return any(_protected_module(type.__dict__["__dict__"].__get__(base).get("__module__"))
               for base in type.__dict__["__mro__"].__get__(klass))


def _keeper(*real: Callable) -> object:
    """A generator holding the real functions the wrappers call: only its frame refers to them."""
    result: tuple[bool, object] = (True, None)
    while True:
        which, arguments, *named = yield result
        try:
            result = (True, real[which](*arguments, **(named[0] if named else {})))
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller, who raises it
            result = (False, exc.with_traceback(None))


def _relay(handler: object) -> Callable[[int, object], object]:
    """A handler that calls ``handler`` without the interrupted frame (None in its place)."""
    def relay(signum: int, frame: object, _handler: object = handler) -> object:
        return _handler(signum, None)  # type: ignore[operator]

    return relay


def _wrap_builtins(registry: Registry) -> None:
    """signal.signal installs relays that hide the frame; _imp.create_builtin asks the hook first, and so
    does compile() of an AST (whose "compile" audit event carries no file name).

    The real functions live only in a generator's frame (reading gi_frame is refused), so the
    wrappers' attributes lead to nothing that bypasses them. getsignal hands back the handler
    that was installed, not its relay (asyncio checks that its own is still in place).
    """
    import _imp
    import _signal
    import builtins

    keeper = _keeper(_signal.signal, _imp.create_builtin, builtins.compile)
    next(keeper)  # type: ignore[call-overload]
    send, audit, spec_type = keeper.send, sys.audit, type(sys.__spec__)  # type: ignore[attr-defined]
    default, real_getsignal, relay_code = _signal.default_int_handler, _signal.getsignal, _relay(None).__code__

    def signal(signalnum: object, handler: object) -> object:
        if callable(handler) and not issubclass(type(handler), int) and handler is not default:
            handler = _relay(handler)
        ok, value = send((0, (signalnum, handler)))
        if not ok:
            raise value  # type: ignore[misc]
        return _unrelayed(value)

    def _unrelayed(value: object) -> object:
        if type(value) is FunctionType and value.__code__ is relay_code:
            return value.__defaults__[0]  # type: ignore[index]
        return value

    def getsignal(signalnum: object) -> object:
        return _unrelayed(real_getsignal(signalnum))

    def compile(source: object, filename: object, *args: object, **kwargs: object) -> object:
        if not issubclass(type(source), (str, bytes, bytearray, memoryview)):  # an AST: tell the hook its file name
            audit("sandbox.compile", source, filename)
        ok, value = send((2, (source, filename, *args), kwargs))
        if not ok:
            raise value  # type: ignore[misc]
        return value

    def create_builtin(spec: object) -> object:
        audit("sandbox.create_builtin", spec.name if type(spec) is spec_type else None)  # type: ignore[attr-defined]
        ok, value = send((1, (spec,)))
        if not ok:
            raise value  # type: ignore[misc]
        return value

    for wrapper, real in ((signal, _signal.signal), (getsignal, real_getsignal), (create_builtin, _imp.create_builtin),
                          (compile, builtins.compile)):
        wrapper.__doc__, wrapper.__name__ = real.__doc__, real.__name__
        registry.add(wrapper.__code__, wrapper.__globals__, PASS)
    registry.add(relay_code, globals(), DENY)
    _signal.signal, _signal.getsignal = signal, getsignal
    _imp.create_builtin = create_builtin
    builtins.compile = compile
