#!/usr/bin/env python3
"""Offline checks on the locked dependency graph (`make lint`), in the spirit of cargo-deny's
`bans` and `licenses` checks: a crate RustSec flags as unmaintained is never added back, the
crates named below are built in one version only, and every crate's licence is one we can ship
under Apache-2.0.

RustSec's advisory database itself is not consulted: it needs a download this check must not
depend on. The list below is the part of it that concerned this project or its close neighbours
when it was written; add an entry when an advisory names a crate we might pull in.
"""
import json
import subprocess
import sys

# Crate -> why it must not come back.
BANNED = {
    "rustls-pemfile": "RUSTSEC-2025-0134, unmaintained: rustls' pki-types parses PEM",
    "paste": "RUSTSEC-2024-0436, unmaintained",
    "proc-macro-error": "RUSTSEC-2024-0370, unmaintained",
    "instant": "RUSTSEC-2024-0384, unmaintained",
    "atty": "RUSTSEC-2024-0375, unmaintained",
    "derivative": "RUSTSEC-2024-0388, unmaintained",
    "ansi_term": "RUSTSEC-2021-0139, unmaintained",
    "serde_cbor": "RUSTSEC-2021-0127, unmaintained",
    "yaml-rust": "RUSTSEC-2024-0320, unmaintained",
}

# Crates that must be built in one version only (two WebSocket stacks double the code and the
# places a fix has to land).
SINGLE_VERSION = ["tungstenite", "tokio-tungstenite"]

# Licences compatible with shipping the library and server under Apache-2.0.
ALLOWED = {
    "MIT", "Apache-2.0", "Apache-2.0 WITH LLVM-exception", "ISC", "BSD-2-Clause",
    "BSD-3-Clause", "Unicode-3.0", "Zlib", "CDLA-Permissive-2.0", "MPL-2.0", "BSL-1.0",
    "Unlicense",
}


def tokens(expr):
    expr = expr.replace("/", " OR ").replace("(", " ( ").replace(")", " ) ")
    out, words = [], expr.split()
    i = 0
    while i < len(words):
        if i + 2 < len(words) and words[i + 1] == "WITH":
            out.append(" ".join(words[i:i + 3]))
            i += 3
        else:
            out.append(words[i])
            i += 1
    return out


def allowed(expr):
    """Evaluates an SPDX expression: OR needs one allowed side, AND needs both."""
    toks = tokens(expr)
    pos = 0

    def atom():
        nonlocal pos
        tok = toks[pos]
        pos += 1
        if tok == "(":
            value = disjunction()
            pos += 1  # ")"
            return value
        return tok in ALLOWED

    def conjunction():
        nonlocal pos
        value = atom()
        while pos < len(toks) and toks[pos] == "AND":
            pos += 1
            value = atom() and value
        return value

    def disjunction():
        nonlocal pos
        value = conjunction()
        while pos < len(toks) and toks[pos] == "OR":
            pos += 1
            value = conjunction() or value
        return value

    return disjunction()


def main():
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        check=True, capture_output=True, text=True).stdout)
    workspace = set(meta["workspace_members"])
    problems, versions = [], {}
    for pkg in meta["packages"]:
        name = pkg["name"]
        versions.setdefault(name, set()).add(pkg["version"])
        if name in BANNED:
            problems.append(f"{name} {pkg['version']} is banned: {BANNED[name]}")
        if pkg["id"] in workspace:
            continue
        lic = pkg.get("license")
        if not lic:
            problems.append(f"{name} {pkg['version']} declares no SPDX licence")
        elif not allowed(lic):
            problems.append(f"{name} {pkg['version']}: licence {lic!r} is not on the allowed list")
    for name in SINGLE_VERSION:
        if len(versions.get(name, ())) > 1:
            problems.append(f"{name} is built in {len(versions[name])} versions: "
                            f"{', '.join(sorted(versions[name]))}")
    if problems:
        print("dependency check failed:")
        for p in problems:
            print("  " + p)
        sys.exit(1)
    print(f"dependency check: {len(meta['packages'])} crates, licences allowed, none banned, "
          f"{', '.join(SINGLE_VERSION)} in one version each")


if __name__ == "__main__":
    main()
