#!/usr/bin/env python3
"""Include-direction check: every `#include "..."` in src/ and include/ must point
down DESIGN.md's layer picture (docs/architecture.md draws it). Exits 1, naming
file:line and the edge, on an include the table below does not allow, on a file
in no layer, on a public header that includes a private one or a binding that
does, and on a public header that norch/norch.h leaves out.

    python3 tools/check_layers.py [--root DIR]
"""
import argparse
import pathlib
import re
import sys

# Where each file sits: the first prefix that matches wins, so files precede folders.
LAYER_OF = [
    ("include/norch/autograd/engine.h", "engine"), ("src/autograd/engine.cpp", "engine"),
    ("include/norch/autograd/accumulate_grad.h", "engine"), ("src/autograd/accumulate_grad.cpp", "engine"),
    ("include/norch/autograd/", "graph"), ("src/autograd/", "graph"),
    ("include/norch/error.h", "utils"), ("include/norch/debug.h", "utils"),
    ("include/norch/utils/", "utils"), ("src/utils/", "utils"),
    ("include/norch/backend.h", "tensor"), ("include/norch/tensor/", "tensor"), ("src/tensor/", "tensor"),
    ("include/norch/dispatch.h", "kernels"), ("src/kernels/cpu/", "kernels/cpu"),
    ("src/kernels/cuda/", "kernels/cuda"), ("src/kernels/", "kernels"),
    ("include/norch/ops/", "ops"), ("src/ops/", "ops"),
    ("include/norch/nn/", "nn"), ("src/nn/", "nn"),
    ("include/norch/norch.h", "umbrella"), ("include/norch/extension.h", "extension"),
    ("src/python/", "bindings"),
]
# The one table of allowed edges: what each layer may include besides itself.
# "kernels" is the stub interface (dispatch.h, src/kernels/*.h) both backends implement.
ALLOWED = {
    "utils": set(),
    "tensor": {"utils"},
    "kernels": {"tensor", "utils"},
    "kernels/cpu": {"kernels", "tensor", "utils"},
    "kernels/cuda": {"kernels", "tensor", "utils"},
    "graph": {"tensor", "utils"},                    # autograd graph records sit below ops
    "ops": {"graph", "kernels", "tensor", "utils"},
    "nn": {"ops", "graph", "kernels", "tensor", "utils"},
    "engine": {"ops", "graph", "tensor", "utils"},   # the engine sits above ops
    "umbrella": {"engine", "nn", "ops", "graph", "kernels", "tensor", "utils"},
    # norch/extension.h: the umbrella plus pybind11, for extensions built outside the library.
    "extension": {"umbrella"},
    "bindings": {"umbrella", "engine", "nn", "ops", "graph", "tensor", "utils"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
SOURCES = {".h", ".hpp", ".cpp", ".cu", ".cuh"}


def layer_of(rel):
    return next((layer for prefix, layer in LAYER_OF if rel.startswith(prefix)), None)


def resolve(root, src, name):
    """The file `#include "name"` in `src` reads: its own folder, then include/, then src/ (CMake's order)."""
    for base in (src.parent, root / "include", root / "src"):
        if (base / name).is_file():
            return (base / name).resolve().relative_to(root.resolve()).as_posix()
    return None


def check(root):
    errors = []
    files = sorted(p for d in ("src", "include") for p in (root / d).rglob("*") if p.suffix in SOURCES)
    for path in files:
        rel = path.relative_to(root).as_posix()
        here = layer_of(rel)
        if here is None:
            errors.append(f"{rel}: in no layer; add its folder to LAYER_OF in tools/check_layers.py")
            continue
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m:
                continue
            target = resolve(root, path, m.group(1))
            there = layer_of(target) if target else None
            if there is None:
                errors.append(f"{rel}:{n}: includes \"{m.group(1)}\", which is in no layer")
            elif rel.startswith(("include/", "src/python/")) and not target.startswith(("include/", "src/python/")):
                errors.append(f"{rel}:{n}: {here} -> private header {target} (only include/ is visible here)")
            elif there != here and there not in ALLOWED[here]:
                errors.append(f"{rel}:{n}: {here} -> {there} ({m.group(1)}) is not an allowed edge")
    umbrella = root / "include/norch/norch.h"
    listed = {m.group(1) for line in umbrella.read_text().splitlines() if (m := INCLUDE.match(line))}
    for header in sorted((root / "include").rglob("*.h")):
        name = header.relative_to(root / "include").as_posix()
        if header != umbrella and name != "norch/extension.h" and not name.endswith("_inl.h") and name not in listed:
            errors.append(f"include/norch/norch.h: does not include public header {name}")
    return errors


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=pathlib.Path, default=pathlib.Path(__file__).resolve().parent.parent)
    errors = check(parser.parse_args().root)
    for e in errors:
        print(e)
    print(f"check_layers: {len(errors)} problem(s)" if errors else "check_layers: ok")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
