"""Build hook: ships libchinwag inside the package, so that `pip install` is the whole story.

Where the library comes from, in order:

1. ``CHINWAG_PREBUILT_LIBRARY``: the path of an already built ``libchinwag.so`` (or ``.dylib`` /
   ``chinwag.dll``); copied as it is (the repository's tests point it at the library they built);
2. the Cargo workspace this directory sits in (``../..``): ``cargo build --release -p chinwag
   --lib`` (``CARGO`` names the cargo to run, ``CARGO_TARGET_DIR`` is honoured).

Anything else (no prebuilt library and no workspace, e.g. an sdist unpacked elsewhere) stops the
build with a message saying so. The wheel is tagged for this platform and any Python 3
(``py3-none-<platform>``): the package is ctypes only, the library does not depend on Python.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1: the wheel package provides it
    from wheel.bdist_wheel import bdist_wheel

HERE = Path(__file__).resolve().parent
WORKSPACE = HERE.parents[1]
PREBUILT_ENV = "CHINWAG_PREBUILT_LIBRARY"

if sys.platform == "darwin":
    LIBRARY_FILE = "libchinwag.dylib"
elif sys.platform == "win32":
    LIBRARY_FILE = "chinwag.dll"
else:
    LIBRARY_FILE = "libchinwag.so"


def _is_workspace(root: Path) -> bool:
    manifest = root / "Cargo.toml"
    return manifest.is_file() and 'name = "chinwag"' in manifest.read_text(encoding="utf-8")


def built_library() -> Path:
    """The library to ship: the prebuilt one named by the environment, or a release build."""
    prebuilt = os.environ.get(PREBUILT_ENV)
    if prebuilt:
        path = Path(prebuilt)
        if not path.is_file():
            sys.exit(f"{PREBUILT_ENV}={prebuilt}: no such file")
        return path
    if not _is_workspace(WORKSPACE):
        sys.exit(
            f"cannot build libchinwag: {WORKSPACE} is not the Chinwag Cargo workspace. Install "
            f"from a checkout of the repository, or set {PREBUILT_ENV} to a built library."
        )
    cargo = os.environ.get("CARGO", "cargo")
    command = [cargo, "build", "--release", "-p", "chinwag", "--lib"]
    print(f"building libchinwag: {' '.join(command)} (in {WORKSPACE})", file=sys.stderr)
    try:
        subprocess.run(command, cwd=WORKSPACE, check=True)
    except FileNotFoundError:
        sys.exit(f"cannot build libchinwag: {cargo!r} not found (install Rust, or set {PREBUILT_ENV})")
    except subprocess.CalledProcessError as e:
        sys.exit(f"cannot build libchinwag: cargo exited with {e.returncode}")
    target = Path(os.environ.get("CARGO_TARGET_DIR") or WORKSPACE / "target")
    if not target.is_absolute():
        target = WORKSPACE / target
    path = target / "release" / LIBRARY_FILE
    if not path.is_file():
        sys.exit(f"cargo finished but {path} is missing")
    return path


class BuildPyWithLibrary(build_py):
    """Copies libchinwag next to the package's ``__init__.py`` (the loader's second choice,
    after ``CHINWAG_LIBRARY``)."""

    def run(self) -> None:
        super().run()
        source = built_library()
        dest = Path(self.build_lib) / "chinwag" / LIBRARY_FILE
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        os.chmod(dest, 0o755)
        print(f"bundled {source} as {dest}", file=sys.stderr)


class PlatformWheel(bdist_wheel):
    """Platform-tagged, any Python 3: the wheel carries a native library, not an extension."""

    def finalize_options(self) -> None:
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, platform = super().get_tag()
        return "py3", "none", platform


class BinaryDistribution(Distribution):
    def has_ext_modules(self) -> bool:
        return True


setup(
    distclass=BinaryDistribution,
    cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": PlatformWheel},
)
