"""benchmarks/bench_memory.py and bench_examples.py run at a tiny size and print their
tables (no timing is judged here), and bench_examples' PyTorch copy of the examples
changes their import lines and nothing else."""
import os
import re
import subprocess
import sys

import norch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "benchmarks")


def _run(args, timeout=600):
    env = dict(os.environ)
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(norch.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([package_parent, env.get("PYTHONPATH", "")])
    proc = subprocess.run([sys.executable] + args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_bench_memory_prints_hit_rates_and_page_faults():
    out = _run([os.path.join(BENCH, "bench_memory.py"), "--threads", "1", "--steps", "3", "--batch", "8"])
    rows = [line for line in out.splitlines() if line.startswith(("MLP", "LeNet"))]
    assert len(rows) == 2, out
    for row in rows:
        rate = re.search(r"(\d+\.\d)%", row)
        assert rate and 0.0 <= float(rate.group(1)) <= 100.0, row
    # After the warm-up the MLP's blocks are all small enough for the cache: every one reused.
    assert "100.0%" in rows[0], out


def test_bench_examples_runs_one_tiny_epoch_of_each():
    out = _run([os.path.join(BENCH, "bench_examples.py"), "--limit", "128", "--test-images", "16", "--repeat", "1",
                "--threads-list", "1", "--width", "4", "--cases", "mnist-lenet,cifar10"])  # mlp: the same script
    rows = [line.split() for line in out.splitlines() if line.startswith(("mnist-", "cifar10 "))]
    assert [r[0] for r in rows] == ["mnist-lenet", "cifar10"], out
    for r in rows:
        assert r[1] == "1" and float(r[6]) > 0  # norch/torch ratio of the training pass


def test_torch_copy_changes_only_imports():
    sys.path.insert(0, BENCH)
    try:
        import bench_examples
    finally:
        sys.path.remove(BENCH)
    for rel in ("common.py", "mnist/main.py", "cifar10/main.py"):
        with open(os.path.join(ROOT, "examples", rel)) as f:
            src = f.read()
        out = bench_examples.torch_source(src, rel)
        changed = [(a, b) for a, b in zip(src.splitlines(), out.splitlines()) if a != b]
        assert len(src.splitlines()) == len(out.splitlines())
        assert changed and all(re.match(r"(import|from) norch", a) and re.match(r"(import|from) (torch|_torch)", b)
                               for a, b in changed), changed
