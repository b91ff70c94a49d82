#!/usr/bin/env python3
"""Prints a hash of everything a norch build is made from (CMake files, pyproject.toml,
include/, src/, python/norch/), so that scripts/run_tests.sh can tell whether the
installed package was built from this checkout as it is now.

CMake runs it at configure time (every `pip install` configures) and installs the
result as norch/_build_info.py; run_tests.sh runs it again and compares, and reuses
the installed build when they match instead of compiling everything a second time.

    python3 scripts/source_stamp.py [--root DIR]
"""
import argparse
import hashlib
import os

INPUTS = ["CMakeLists.txt", "pyproject.toml", "cmake", "include", "src", "python/norch"]
SKIP_DIRS = {"__pycache__", ".pytest_cache"}
SKIP_SUFFIXES = (".pyc", ".pyo")


def _skipped(name):
    return name.endswith(SKIP_SUFFIXES) or ".so" in name or name == "_build_info.py"


def stamp(root):
    h = hashlib.sha256()
    for top in INPUTS:
        path = os.path.join(root, top)
        files = []
        if os.path.isfile(path):
            files = [top]
        else:
            for d, dirs, names in os.walk(path):
                dirs[:] = sorted(x for x in dirs if x not in SKIP_DIRS)
                files += [os.path.relpath(os.path.join(d, n), root) for n in names if not _skipped(n)]
        for rel in sorted(files):
            h.update(rel.replace(os.sep, "/").encode() + b"\0")
            with open(os.path.join(root, rel), "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    print(stamp(os.path.abspath(ap.parse_args().root)))
