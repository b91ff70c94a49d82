"""The include-direction checker (tools/check_layers.py) passes on the tree, and fails,
naming file:line and the edge, on each kind of include it exists to refuse."""
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHECKER = ROOT / "tools" / "check_layers.py"


def run_checker(root):
    return subprocess.run([sys.executable, str(CHECKER), "--root", str(root)], capture_output=True, text=True)


def test_tree_holds_its_layers():
    r = run_checker(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "check_layers: ok"


@pytest.fixture
def tree_copy(tmp_path):
    for d in ("src", "include"):
        shutil.copytree(ROOT / d, tmp_path / d)
    return tmp_path


def plant(root, rel, line):
    """Inserts `line` after the first line of `rel`; returns its 1-based line number."""
    path = root / rel
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(1, line + "\n")
    path.write_text("".join(lines))
    return 2


@pytest.mark.parametrize("rel, include, expected", [
    ("src/tensor/device.cpp", '#include "norch/ops/copy.h"', "tensor -> ops"),
    ("src/kernels/cpu/sort_kernel.cpp", '#include "norch/ops/copy.h"', "kernels/cpu -> ops"),
    ("src/autograd/function.cpp", '#include "norch/ops/binary.h"', "graph -> ops"),
    ("src/autograd/node.cpp", '#include "norch/autograd/accumulate_grad.h"', "graph -> engine"),
    ("src/utils/generator.cpp", '#include "norch/ops/random.h"', "utils -> ops"),
    ("src/ops/copy.cpp", '#include "norch/autograd/engine.h"', "ops -> engine"),
    ("src/python/linalg_bind.cpp", '#include "kernels/linalg.h"', "bindings -> private header src/kernels/linalg.h"),
    ("include/norch/ops/copy.h", '#include "kernels/copy.h"', "ops -> private header src/kernels/copy.h"),
])
def test_planted_upward_include_is_caught(tree_copy, rel, include, expected):
    assert run_checker(tree_copy).returncode == 0
    n = plant(tree_copy, rel, include)
    r = run_checker(tree_copy)
    assert r.returncode == 1
    assert f"{rel}:{n}: {expected}" in r.stdout, r.stdout


def test_umbrella_must_list_every_public_header(tree_copy):
    (tree_copy / "include/norch/ops/extra.h").write_text('#pragma once\n#include "norch/tensor/tensor.h"\n')
    r = run_checker(tree_copy)
    assert r.returncode == 1
    assert "does not include public header norch/ops/extra.h" in r.stdout


def test_file_outside_every_layer_is_refused(tree_copy):
    (tree_copy / "src/newlayer").mkdir()
    (tree_copy / "src/newlayer/thing.cpp").write_text('#include "norch/tensor/tensor.h"\n')
    r = run_checker(tree_copy)
    assert r.returncode == 1
    assert "src/newlayer/thing.cpp: in no layer" in r.stdout
