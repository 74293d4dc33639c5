"""The built wheel, as an adopter gets it: a fresh virtual environment outside the repository
installs it with pip, and the quickstart runs against a real server with no ``CHINWAG_LIBRARY``
and no repository on the path (the library comes from inside the package).

``CHINWAG_WHEEL`` names the wheel (``make python-test`` builds it from the debug library).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import AUTH_KEY, REPO

QUICKSTART = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items()}
    for name in ("CHINWAG_LIBRARY", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LD_LIBRARY_PATH"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def wheel() -> Path:
    name = os.environ.get("CHINWAG_WHEEL")
    if not name:
        pytest.skip("CHINWAG_WHEEL is not set (make python-test builds the wheel and sets it)")
    path = Path(name).resolve()
    assert path.is_file(), f"CHINWAG_WHEEL={name}: no such file"
    return path


def test_wheel_is_platform_tagged_and_carries_the_library(wheel):
    import zipfile

    # chinwag-0.1.0-py3-none-linux_x86_64.whl: any Python 3, this platform.
    parts = wheel.name[: -len(".whl")].split("-")
    assert parts[2:4] == ["py3", "none"], wheel.name
    assert parts[4] != "any", wheel.name
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        info = next(n for n in names if n.endswith(".dist-info/WHEEL"))
        assert "Root-Is-Purelib: false" in z.read(info).decode()
    assert "chinwag/libchinwag.so" in names, names


def test_fresh_venv_installs_the_wheel_and_runs_the_quickstart(wheel, own_server, tmp_path):
    assert REPO not in tmp_path.parents, "the venv must live outside the repository"
    venv = tmp_path / "venv"
    env = _clean_env()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env, timeout=120)
    py = venv / "bin" / "python"
    install = subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-index",
         "--no-deps", str(wheel)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
    )
    assert install.returncode == 0, install.stdout + install.stderr

    # Where the package and its library come from: the venv, not the repository.
    where = subprocess.run(
        [str(py), "-c", "import sys, chinwag; print(chinwag.__file__); print(chinwag.library().path);"
         " print(any(p.startswith(sys.argv[1]) for p in sys.path))", str(REPO)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )
    assert where.returncode == 0, where.stdout + where.stderr
    package, library, repo_on_path = where.stdout.split()
    site = str(venv / "lib")
    assert package.startswith(site), package
    assert library.startswith(site) and library.endswith("chinwag/libchinwag.so"), library
    assert repo_on_path == "False"

    for user in ("alice", "bob"):
        own_server.create_user(user)
    script = tmp_path / "quickstart.py"
    shutil.copyfile(QUICKSTART, script)
    out = subprocess.run(
        [str(py), str(script), own_server.url, AUTH_KEY],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.rstrip().endswith("quickstart: done"), out.stdout
