"""Finding and checking libchinwag, and the binding against the header (every function, every
constant, every struct's layout)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import chinwag
from chinwag import _native as N
from chinwag import types as T

from conftest import REPO

HEADER = REPO / "include" / "chinwag.h"


def lib_path() -> str:
    return chinwag.library().path


def test_loaded_library_and_versions():
    lib = chinwag.library()
    if os.environ.get("CHINWAG_LIBRARY"):
        assert lib.path == os.environ["CHINWAG_LIBRARY"]
    assert chinwag.abi_version() == chinwag.ABI_VERSION == 1
    cargo = (REPO / "Cargo.toml").read_text()
    version = re.search(r'^version = "([^"]+)"', cargo, re.M).group(1)
    assert chinwag.version() == version
    assert lib.has_app_dispatch


def test_env_var_pointing_nowhere_is_a_clear_error(monkeypatch, tmp_path):
    missing = str(tmp_path / "nope" / "libchinwag.so")
    monkeypatch.setenv("CHINWAG_LIBRARY", missing)
    with pytest.raises(chinwag.LibraryNotFoundError) as info:
        N.load_library()
    text = str(info.value)
    assert missing in text and "no such file" in text and "CHINWAG_LIBRARY" in text
    assert info.value.attempts == [(f"{missing} ($CHINWAG_LIBRARY)", "no such file")]


def test_a_library_that_is_not_chinwag(monkeypatch):
    libc = ctypes.util.find_library("c")
    if libc is None:
        pytest.skip("no libc name to load")
    monkeypatch.setenv("CHINWAG_LIBRARY", libc)
    with pytest.raises(chinwag.LibraryNotFoundError, match="not a Chinwag library"):
        N.load_library()


def test_a_file_that_is_no_library(monkeypatch, tmp_path):
    bogus = tmp_path / "libchinwag.so"
    bogus.write_text("not an ELF file")
    monkeypatch.setenv("CHINWAG_LIBRARY", str(bogus))
    with pytest.raises(chinwag.LibraryNotFoundError, match="cannot be loaded"):
        N.load_library()


def test_wrong_abi_version(monkeypatch):
    monkeypatch.setenv("CHINWAG_LIBRARY", lib_path())
    monkeypatch.setattr(N, "ABI_VERSION", 999)
    with pytest.raises(chinwag.AbiVersionError) as info:
        N.load_library()
    text = str(info.value)
    assert "ABI version 1" in text and "ABI version 999" in text and lib_path() in text


def test_candidates_order(tmp_path):
    assert N._candidates("/x/libchinwag.so", tmp_path) == [("$CHINWAG_LIBRARY", "/x/libchinwag.so")]
    found = N._candidates(None, tmp_path)
    assert found[0] == ("package directory", str(tmp_path / "libchinwag.so"))
    assert found[-1] == ("system library path", "libchinwag.so")


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CHINWAG_LIBRARY", "LD_LIBRARY_PATH")}
    return env


def _package_copy(tmp_path: Path, with_library: bool) -> Path:
    """A copy of the installed package in tmp_path/site (optionally with the .so inside)."""
    site = tmp_path / "site"
    shutil.copytree(Path(chinwag.__file__).parent, site / "chinwag")
    for stale in (site / "chinwag").glob("libchinwag*"):
        stale.unlink()
    if with_library:
        shutil.copy(lib_path(), site / "chinwag" / "libchinwag.so")
    return site


PROBE = "import chinwag; print(chinwag.library().path); print(chinwag.version())"


def test_found_in_the_package_directory(tmp_path):
    site = _package_copy(tmp_path, with_library=True)
    env = _clean_env()
    env["PYTHONPATH"] = str(site)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[0] == str(site / "chinwag" / "libchinwag.so")


def test_found_on_the_system_library_path(tmp_path):
    site = _package_copy(tmp_path, with_library=False)
    env = _clean_env()
    env["PYTHONPATH"] = str(site)
    env["LD_LIBRARY_PATH"] = str(Path(lib_path()).parent)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.splitlines()[0]).name.startswith("libchinwag")


def test_not_found_anywhere_lists_what_was_tried(tmp_path):
    site = _package_copy(tmp_path, with_library=False)
    env = _clean_env()
    env["PYTHONPATH"] = str(site)
    code = (
        "import chinwag\n"
        "try:\n    chinwag.library()\n"
        "except chinwag.LibraryNotFoundError as e:\n    print('NOTFOUND'); print(e)\n"
        "else:\n    print('FOUND', chinwag.library().path)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    if out.stdout.startswith("FOUND"):
        pytest.skip(f"a libchinwag is installed system-wide: {out.stdout.strip()}")
    assert "package directory" in out.stdout and "system library path" in out.stdout
    assert "CHINWAG_LIBRARY" in out.stdout


# ------------------------------------------------------------------------------------------
# the binding against the header
# ------------------------------------------------------------------------------------------


def header() -> str:
    return HEADER.read_text()


def test_every_header_function_is_declared_and_nothing_else():
    declared = set(re.findall(r"^\S.*?\b(chinwag_\w+)\(", header(), re.M))
    declared = {d for d in declared if not d.endswith("_cb")}
    ours = set(N.PROTOTYPES) | set(N.OPTIONAL_PROTOTYPES)
    assert declared - ours == set(), "functions of the header the binding lacks"
    assert ours - declared == set(), "functions the binding declares that the header lacks"


def test_every_exported_symbol_is_declared():
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("no nm")
    out = subprocess.run([nm, "-D", "--defined-only", lib_path()], capture_output=True, text=True, check=True)
    exported = {line.split()[-1] for line in out.stdout.splitlines() if " T " in line}
    exported = {s for s in exported if s.startswith("chinwag_")}
    assert exported == set(N.PROTOTYPES) | set(N.OPTIONAL_PROTOTYPES)


ENUMS = {
    "RESULT": T.ResultCode,
    "CONNECTION_STATE": T.ConnectionState,
    "STATE_REASON": T.StateReason,
    "RECEIVER_TYPE": T.ReceiverType,
    "CALL_TYPE": T.CallType,
    "PRESENCE": T.Presence,
    "NETWORK": T.Network,
    "APP_STATE": T.AppState,
    "GROUP_TYPE": T.GroupType,
    "SCOPE": T.Scope,
    "USER_STATUS": T.UserStatus,
    "RECEIPT_KIND": T.ReceiptKind,
    "GROUP_ACTION": T.GroupAction,
    "CONVERSATION_FILTER": T.ConversationFilter,
    "LOG_LEVEL": T.LogLevel,
    "DISPATCH_MODE": T.DispatchMode,
    "CONNECT_MODE": T.ConnectMode,
}


def test_every_constant_matches_the_header():
    defines = dict(re.findall(r"^#define CHINWAG_(\w+) (\d+)$", header(), re.M))
    assert int(defines.pop("ABI_VERSION")) == chinwag.ABI_VERSION
    for key in ("VERSION_MAJOR", "VERSION_MINOR", "VERSION_PATCH"):
        defines.pop(key)
    kinds = {name: int(v) for name, v in defines.items() if name.startswith("LISTENER_KIND_")}
    for name in kinds:
        defines.pop(name)
    assert {f"LISTENER_KIND_{f.upper()}": k for f, (k, _) in N.LISTENER_FAMILIES.items()} == kinds
    seen = set()
    for name, value in defines.items():
        for prefix, enum in ENUMS.items():
            if name.startswith(prefix + "_") and name[len(prefix) + 1 :] in enum.__members__:
                assert int(enum[name[len(prefix) + 1 :]]) == int(value), name
                seen.add(name)
                break
        else:
            pytest.fail(f"CHINWAG_{name} has no Python enum member")
    # and the other way round: no Python member without a #define
    for prefix, enum in ENUMS.items():
        for member in enum:
            assert f"{prefix}_{member.name}" in seen, f"{enum.__name__}.{member.name}"


def test_every_struct_matches_the_header():
    structs = set(re.findall(r"^typedef struct (chinwag_\w+) \{", header(), re.M))
    assert structs == set(N.STRUCTS)


def test_struct_layouts_match_the_c_compiler(tmp_path):
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler")
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include "chinwag.h"', "int main(void) {"]
    for name, cls in N.STRUCTS.items():
        lines.append(f'  printf("{name} %zu %zu\\n", sizeof({name}), _Alignof({name}));')
        for field, _ in cls._fields_:
            lines.append(f'  printf("{name}.{field} %zu\\n", offsetof({name}, {field}));')
    lines += ["  return 0;", "}"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c11", f"-I{HEADER.parent}", str(src), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    got = {}
    for line in out.splitlines():
        parts = line.split()
        got[parts[0]] = tuple(int(p) for p in parts[1:])
    for name, cls in N.STRUCTS.items():
        assert got[name] == (ctypes.sizeof(cls), ctypes.alignment(cls)), name
        for field, _ in cls._fields_:
            assert got[f"{name}.{field}"] == (getattr(cls, field).offset,), f"{name}.{field}"


def test_result_codes_match_the_header_both_ways():
    defined = {
        m.group(1): int(m.group(2))
        for m in re.finditer(r"^#define CHINWAG_RESULT_(\w+) (\d+)$", header(), re.M)
    }
    assert defined, "no CHINWAG_RESULT_ constants in the header"
    assert {c.name: int(c) for c in T.ResultCode} == defined


def test_names_from_the_library():
    lib = chinwag.library()
    for code in T.ResultCode:
        assert lib.chinwag_result_name(int(code)).decode() == code.name
    for state in T.ConnectionState:
        assert lib.chinwag_connection_state_name(int(state)).decode() == state.name
    for reason in T.StateReason:
        assert lib.chinwag_state_reason_name(int(reason)).decode() == reason.name
    assert chinwag.error_for(123456).name == "UNKNOWN"
