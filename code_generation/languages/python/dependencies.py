"""Packages the generated code needs, installed into a private virtual environment (never the user's)."""

from __future__ import annotations

import sys
from pathlib import Path

from code_generation.sandbox.tools import run_tool, without_secrets

# Variables pip must not see: keys, tokens and cloud credentials (its own PIP_* settings stay).
# Import names whose distribution is called something else (the common cases).
DISTRIBUTION_NAMES = {"yaml": "PyYAML", "sklearn": "scikit-learn", "cv2": "opencv-python", "PIL": "Pillow",
                      "bs4": "beautifulsoup4", "dateutil": "python-dateutil", "attr": "attrs"}  # fmt: skip


def make_dependency_venv(folder: Path) -> Path:
    """A new virtual environment (never the user's) for packages the generated code needs; its python."""
    proc = run_tool([sys.executable, "-m", "venv", "--without-pip", str(folder)], timeout=120)
    if proc.returncode != 0:
        raise OSError(f"could not create a virtual environment in {folder}: {proc.stderr.strip()[-300:]}")
    folder.chmod(0o755)  # the sandbox may run the tests as an unprivileged user
    return folder / "bin" / "python"


def install_package(python: Path, import_name: str, timeout: float = 300.0) -> tuple[bool, str]:
    """pip-install the distribution for `import_name` into the environment of `python`.

    Wheels only (``--only-binary :all:``): installing a wheel runs none of the package's code,
    so nothing untrusted runs outside the sandbox. Our pip does the work (``--target`` the
    environment's site-packages), so the new environment needs no pip of its own.
    """
    site = run_tool([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], timeout=60)
    if site.returncode != 0:
        return False, site.stderr.strip()[-300:]
    distribution = DISTRIBUTION_NAMES.get(import_name, import_name)
    proc = run_tool(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
         "--only-binary", ":all:", "--target", site.stdout.strip(), distribution],
        timeout=timeout, env=without_secrets(),
    )
    return proc.returncode == 0, (proc.stderr or proc.stdout).strip()[-500:]
