"""Crates from an offline source: what it holds, and which of them a module needs.

crates.io is never reached (not at test time, not ever): dependencies come from a folder on this
machine, used by cargo as a replacement for crates.io with ``--offline``:

* a **directory source**: one folder per crate, each with its ``Cargo.toml`` and a
  ``.cargo-checksum.json`` (what ``cargo vendor`` writes, and where Debian's ``librust-*-dev``
  packages put crates: ``/usr/share/cargo/registry``);
* a **local registry**: an ``index/`` folder and ``.crate`` files (``cargo local-registry``).

Which one: ``--crate-source DIR`` (``none`` for none), else ``$CREATE_SCRIPT_CRATE_SOURCE``, else
Debian's folder when it exists. A crate the code uses (``use regex::Regex``, ``regex::Regex::new``)
that the source holds goes into the throw-away ``Cargo.toml``; one it lacks is reported, and the
feedback asks for the standard library instead.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from code_generation.languages.rust import syntax
from code_generation.languages.rust.testfile import NOT_CRATES, PRIMITIVES
from my_llm import config
from my_llm.errors import MyLLMError

ENV = "CREATE_SCRIPT_CRATE_SOURCE"
DEBIAN_REGISTRY = Path("/usr/share/cargo/registry")
NONE = "none"
SOURCE_NAME = "create-script-offline"


@dataclass(frozen=True)
class CrateSource:
    """An offline source: its folder, its kind, and crate (as code names it) -> (package, version)."""

    path: Path
    kind: str  # "directory" | "local-registry"
    crates: dict[str, tuple[str, str]] = field(compare=False, hash=False)

    def config_args(self) -> list[str]:
        """cargo's ``--config`` arguments that replace crates.io by this folder."""
        return ["--config", f'source.crates-io.replace-with="{SOURCE_NAME}"',
                "--config", f"source.{SOURCE_NAME}.{self.kind}={json.dumps(str(self.path))}"]

    @property
    def names(self) -> list[str]:
        return sorted(self.crates)


def _version_key(version: str) -> tuple:
    core = re.split(r"[-+]", version, maxsplit=1)[0]
    parts = [int(p) if p.isdigit() else 0 for p in core.split(".")]
    return (*parts, "-" not in version)


def _directory_crates(path: Path) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for entry in sorted(path.iterdir()):
        manifest = entry / "Cargo.toml"
        if not (entry / ".cargo-checksum.json").is_file() or not manifest.is_file():
            continue
        try:
            package = tomllib.loads(manifest.read_text(encoding="utf-8")).get("package", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        name, version = str(package.get("name", "")), str(package.get("version", ""))
        if not name or not version:
            continue
        key = name.replace("-", "_")
        if key not in found or _version_key(version) > _version_key(found[key][1]):
            found[key] = (name, version)
    return found


def _registry_crates(path: Path) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for index in sorted((path / "index").rglob("*")):
        if not index.is_file() or index.name.startswith(".") or index.name == "config.json":
            continue
        for line in index.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            name, version = str(entry.get("name", "")), str(entry.get("vers", ""))
            if not name or not version or entry.get("yanked"):
                continue
            key = name.replace("-", "_")
            if key not in found or _version_key(version) > _version_key(found[key][1]):
                found[key] = (name, version)
    return found


@lru_cache(maxsize=8)
def _read_source(path: str, stamp: float) -> CrateSource:
    folder = Path(path)
    if (folder / "index").is_dir():
        return CrateSource(folder, "local-registry", _registry_crates(folder))
    return CrateSource(folder, "directory", _directory_crates(folder))


def read_source(path: Path) -> CrateSource:
    """The source in `path` (read once per change of the folder)."""
    if not path.is_dir():
        raise MyLLMError(f"the crate source {path} is not a folder: give a vendored crates folder, a local "
                         f"registry, or `none`")
    return _read_source(str(path.resolve()), path.stat().st_mtime)


def offline_source(setting: str | Path | None = None) -> CrateSource | None:
    """The configured source: the setting, else $CREATE_SCRIPT_CRATE_SOURCE, else Debian's folder; None for none."""
    chosen = str(setting) if setting is not None else (config.text("crate_source") or "")
    if chosen.strip().lower() == NONE:
        return None
    if chosen.strip():
        return read_source(Path(chosen).expanduser())
    return read_source(DEBIAN_REGISTRY) if DEBIAN_REGISTRY.is_dir() else None


def used_crates(*sources: str, own: str = "", paths: bool = True) -> list[str]:
    """Crates the code names: ``use`` roots and ``extern crate`` lines, and (with `paths`) lower-case
    path roots (``regex::Regex::new``), other than std's, primitives, the crate itself and local modules."""
    found: list[str] = []
    for source in sources:
        masked = syntax.mask(source)
        local = syntax.local_modules(masked)
        roots = [*syntax.use_roots(masked), *(syntax.path_roots(masked) if paths else [])]
        found += [r for r in roots if r not in NOT_CRATES and r not in PRIMITIVES and r != own and r not in local]
    return list(dict.fromkeys(found))


@dataclass
class Dependencies:
    """What the throw-away Cargo.toml gets, and what could not be found."""

    packages: dict[str, str]  # package name -> version
    added: list[str]  # crates (as the code names them) taken from the source
    missing: list[str]  # crates named in ``use``/``extern crate`` that the source lacks
    # Named only by a path (``rand::random()``) and lacking from the source: a local name to us, a
    # missing crate when the compiler cannot resolve it either (rust/feedback.py: missing_crate).
    unknown: list[str] = field(default_factory=list)


def dependencies(code: str, test_source: str, crate: str, source: CrateSource | None) -> Dependencies:
    """The dependencies a module and its tests need, from the offline source."""
    available = source.crates if source is not None else {}
    named = used_crates(code, test_source, own=crate)
    declared = set(used_crates(code, test_source, own=crate, paths=False))
    added = [c for c in named if c in available]
    missing = [c for c in named if c not in available and c in declared]
    unknown = [c for c in named if c not in available and c not in declared]
    return Dependencies({available[c][0]: available[c][1] for c in added}, added, missing, unknown)
