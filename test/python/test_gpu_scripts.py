"""The scripts for GPU machines and for the build, checked where they cannot run for real:
scripts/gpu_check.sh parses as bash (and passes shellcheck where it is installed),
benchmarks/bench_cuda.py parses its arguments, runs every case on the CPU at a tiny size
and exits 0 without a GPU, and judges the issue's targets correctly; scripts/source_stamp.py
(how run_tests.sh reuses the first build) changes exactly when a source changes."""
import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

import norch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SHELL_SCRIPTS = ["scripts/gpu_check.sh", "scripts/run_tests.sh", "scripts/cuda_compile_check.sh", ".ci/run"]


def _load(rel, name):
    # The benchmark puts the source tree's python/ first on sys.path for its own runs;
    # here that would outlive the test and send later subprocesses to an unbuilt tree.
    saved = list(sys.path)
    try:
        spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, rel))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
    finally:
        sys.path[:] = saved
    return mod


@pytest.mark.parametrize("script", SHELL_SCRIPTS)
def test_shell_scripts_parse(script):
    r = subprocess.run(["bash", "-n", os.path.join(ROOT, script)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    if shutil.which("shellcheck"):
        r = subprocess.run(["shellcheck", "-S", "warning", os.path.join(ROOT, script)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout


def test_gpu_check_needs_its_outdir():
    r = subprocess.run(["bash", os.path.join(ROOT, "scripts/gpu_check.sh")], capture_output=True, text=True)
    assert r.returncode == 2 and "usage: bash scripts/gpu_check.sh OUTDIR" in r.stderr


def test_bench_cuda_arguments_and_cpu_dry_run(capsys):
    bench = _load("benchmarks/bench_cuda.py", "bench_cuda")
    args = bench.parse_args(["--repeat", "3", "--numel", "1000", "--json", "x.json"])
    assert (args.repeat, args.numel, args.matmul_n, args.json) == (3, 1000, 4096, "x.json")
    with pytest.raises(SystemExit):
        bench.parse_args(["--no-such-flag"])
    if norch.cuda.is_available():
        return  # the GPU check runs it for real
    assert bench.main([]) == 0
    out = capsys.readouterr().out
    assert "no CUDA device" in out and "Nothing was timed" in out
    assert out.count("  ok    ") == 9 and "FAIL" not in out
    assert bench.main(["--require-gpu"]) == 1


def test_bench_cuda_judges_the_targets():
    bench = _load("benchmarks/bench_cuda.py", "bench_cuda")
    n = 1 << 28
    r = {"d2d copy": {"norch_s": 2.0, "torch_s": 1.0, "work": 8 * n},
         "add": {"norch_s": 1.6, "torch_s": 1.5, "work": 12 * n},          # 0.9375 of torch's copy
         "sum": {"norch_s": 1.0, "torch_s": 0.4, "work": 4 * n},           # 0.5: missed
         "matmul": {"ratio": 1.0 / 0.96}, "mlp64": {"ratio": 0.9}, "mlp1024": {"ratio": 1.1},
         "lenet64": {"error": "NotImplementedError: conv2d is not implemented on cuda"},
         "lenet1024": {"ratio": 1.0}, "seed002": {"ratio": 0.45}}
    lines = bench.check_targets(r)
    text = "\n".join(lines)
    assert "add: " in text and "94% of the copy bandwidth" in text
    verdict = {line.split(":")[0]: line.rsplit(" ", 1)[-1] for line in lines if line.endswith(("met", "MISSED"))}
    assert verdict == {"add": "met", "sum": "MISSED", "matmul 4096^3": "met", "MLP batch 64": "met",
                       "MLP batch 1024": "MISSED", "LeNet batch 1024": "met", "seed 002 example": "met"}
    assert "not measured (NotImplementedError: conv2d" in text


def test_source_stamp_follows_the_sources(tmp_path):
    stamp = _load("scripts/source_stamp.py", "source_stamp").stamp
    for d in ("src", "include/norch", "python/norch/__pycache__", "cmake"):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / "CMakeLists.txt").write_text("project(x)\n")
    (tmp_path / "src" / "a.cpp").write_text("int a;\n")
    first = stamp(str(tmp_path))
    assert stamp(str(tmp_path)) == first
    # Build outputs and caches do not count: a dev build leaves them in python/norch.
    (tmp_path / "python/norch/_C.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\0")
    (tmp_path / "python/norch/__pycache__/x.cpython-311.pyc").write_bytes(b"\0")
    assert stamp(str(tmp_path)) == first
    (tmp_path / "src" / "a.cpp").write_text("int a = 1;\n")
    assert stamp(str(tmp_path)) != first
    (tmp_path / "src" / "a.cpp").write_text("int a;\n")
    assert stamp(str(tmp_path)) == first
    (tmp_path / "python/norch/new.py").write_text("")
    assert stamp(str(tmp_path)) != first
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts/source_stamp.py"), "--root", str(tmp_path)],
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == stamp(str(tmp_path))


def test_gpu_check_time_boxes_its_steps_and_writes_a_summary(tmp_path):
    # A one-second build box: the build step is cut off, reported, and the check stops there.
    env = dict(os.environ, T_BUILD="1", BUILD_DIR=str(tmp_path / "build"))
    r = subprocess.run(["bash", os.path.join(ROOT, "scripts/gpu_check.sh"), str(tmp_path / "out")],
                       capture_output=True, text=True, env=env, timeout=300)
    summary = (tmp_path / "out" / "summary.txt").read_text()
    assert r.returncode == 1, r.stdout + r.stderr
    assert summary.startswith("norch GPU check, ")
    assert "build: TIMED OUT after" in summary and "(limit 1s), log build.log" in summary
    assert (tmp_path / "out" / "build.log").exists() and (tmp_path / "out" / "env.log").exists()
    assert "total: " in summary.splitlines()[-1]
