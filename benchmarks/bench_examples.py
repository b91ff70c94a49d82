"""One training epoch of the MNIST (LeNet and MLP) and CIFAR-10 examples, norch beside PyTorch
running the same script with only its imports changed.

There is no network here, so the MNIST IDX files and CIFAR-10 binary batches are written to
a temporary folder from random pixels and labels (speed does not depend on the pictures);
--limit caps the training images as the examples' own --limit does. The PyTorch run is
examples/<name>/main.py and examples/common.py with `import norch` -> `import torch as norch`,
`norch.nn`/`norch.optim`/`norch.utils.data` -> `torch.*`, and norch.datasets replaced by the
minimal MNIST/CIFAR10 of benchmarks/_torch_datasets.py over the same files (torchvision is
not installed). Each run is a fresh process with the thread count set before the script
starts; the training pass and the test pass of the epoch are timed apart (wrapping the
examples' common.run_epoch), medians over --repeat fresh processes, norch and PyTorch interleaved.

    python benchmarks/bench_examples.py [--threads-list 1,2] [--limit 6400] [--repeat 3]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLES = os.path.join(ROOT, "examples")
# The norch the runs import: the checkout's python/ once scripts/build.sh has put the
# extension there, else the installed package (a fresh clone after `pip install .`).
NORCH_PATH = os.path.join(ROOT, "python")
if not any(name.startswith("_C.") for name in os.listdir(os.path.join(NORCH_PATH, "norch"))):
    NORCH_PATH = ""

# (case, example folder, extra arguments)
CASES = {
    "mnist-lenet": ("mnist", ["--model", "lenet"]),
    "mnist-mlp": ("mnist", ["--model", "mlp"]),
    "cifar10": ("cifar10", []),
}

# The only edits the PyTorch copy gets: its import lines.
IMPORTS = [
    (r"^import norch$", "import torch as norch"),
    (r"^import norch\.nn as nn$", "import torch.nn as nn"),
    (r"^import norch\.optim as optim$", "import torch.optim as optim"),
    (r"^from norch\.utils\.data import ", "from torch.utils.data import "),
    (r"^from norch\.datasets import ", "from _torch_datasets import "),
]


def torch_source(text, path):
    out = text
    for pattern, repl in IMPORTS:
        out = re.sub(pattern, repl, out, flags=re.M)
    left = re.findall(r"^\s*(?:import|from)\s+norch\b.*$", out, flags=re.M)
    if left:
        raise SystemExit(f"bench_examples: {path} has an import this benchmark cannot rewrite: {left[0]!r}")
    return out


def write_idx(path, array):
    with open(path, "wb") as f:
        f.write(bytes([0, 0, 0x08, array.ndim]))
        for d in array.shape:
            f.write(int(d).to_bytes(4, "big"))
        f.write(np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def write_data(folder, n_train, n_test, rng):
    """MNIST IDX files and CIFAR-10 binary batches with n_train training and n_test test images."""
    mnist = os.path.join(folder, "mnist")
    cifar = os.path.join(folder, "cifar")
    os.makedirs(mnist)
    os.makedirs(cifar)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(os.path.join(mnist, f"{prefix}-images-idx3-ubyte"), rng.integers(0, 256, (n, 28, 28)))
        write_idx(os.path.join(mnist, f"{prefix}-labels-idx1-ubyte"), rng.integers(0, 10, n))
    per_batch = -(-n_train // 5)
    for name, n in [(f"data_batch_{i}.bin", per_batch) for i in range(1, 6)] + [("test_batch.bin", n_test)]:
        rec = np.concatenate([rng.integers(0, 10, (n, 1)), rng.integers(0, 256, (n, 3072))], axis=1)
        with open(os.path.join(cifar, name), "wb") as f:
            f.write(rec.astype(np.uint8).tobytes())
    return {"mnist": mnist, "cifar10": cifar}


def torch_copy(folder):
    """examples/ with the PyTorch imports, under folder/torch_examples."""
    dst = os.path.join(folder, "torch_examples")
    for rel in ("common.py", "mnist/main.py", "cifar10/main.py"):
        src = os.path.join(EXAMPLES, rel)
        os.makedirs(os.path.dirname(os.path.join(dst, rel)), exist_ok=True)
        with open(src) as f:
            text = torch_source(f.read(), src)
        with open(os.path.join(dst, rel), "w") as f:
            f.write(text)
    return dst


# Times each pass of common.run_epoch (the one fit calls) and prints the training and test
# pass apart; the script's own epoch line has only tenths of a second.
RUNNER = """
import os, runpy, sys, time
lib = __import__({lib!r})
lib.set_num_threads({threads})
sys.path.insert(0, {bench_dir!r})
sys.path.insert(0, os.path.dirname(os.path.dirname({script!r})))
import common
run_epoch = common.run_epoch
def timed(*a, **kw):
    t0 = time.perf_counter()
    out = run_epoch(*a, **kw)
    kind = "train" if (len(a) > 4 and a[4] is not None) or kw.get("optimizer") is not None else "test"
    print(f"BENCH {{kind}} {{time.perf_counter() - t0:.6f}} {{out[0]:.6f}}", flush=True)
    return out
common.run_epoch = timed
sys.argv = [{script!r}] + {argv!r}
runpy.run_path({script!r}, run_name="__main__")
"""


def run_epoch(lib, script, argv, threads, timeout):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([p for p in (NORCH_PATH, env.get("PYTHONPATH", "")) if p])
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    code = RUNNER.format(lib=lib, threads=threads, bench_dir=HERE, script=script, argv=argv)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=os.path.dirname(argv[argv.index("--checkpoint") + 1]))
    if proc.returncode != 0:
        raise SystemExit(f"bench_examples: {lib} run of {script} failed:\n{proc.stderr[-3000:]}")
    passes = dict((kind, (float(sec), float(loss))) for kind, sec, loss in
                  re.findall(r"^BENCH (train|test) (\S+) (\S+)$", proc.stdout, flags=re.M))
    if set(passes) != {"train", "test"}:
        raise SystemExit(f"bench_examples: no timed passes in the output of {script}:\n{proc.stdout[-2000:]}")
    return passes["train"][0], passes["test"][0], passes["train"][1]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads-list", default="1,2", help="comma-separated thread counts")
    p.add_argument("--cases", default=",".join(CASES), help="comma-separated: " + ", ".join(CASES))
    p.add_argument("--limit", type=int, default=6400,
                   help="training images per epoch (CIFAR-10 drops a last partial batch of 128)")
    p.add_argument("--test-images", type=int, default=1000, help="test images the epoch evaluates")
    p.add_argument("--width", type=int, default=16, help="the CIFAR-10 ResNet's width (the example's --width)")
    p.add_argument("--repeat", type=int, default=3, help="epochs per library and case (median reported)")
    p.add_argument("--num-workers", type=int, default=0,
                   help="DataLoader workers for both runs (0 keeps loading in the timed process)")
    p.add_argument("--timeout", type=float, default=1200, help="seconds one epoch may take")
    args = p.parse_args()
    threads_list = [int(t) for t in args.threads_list.split(",")]
    cases = args.cases.split(",")
    for c in cases:
        if c not in CASES:
            raise SystemExit(f"bench_examples: unknown case {c!r} (have {', '.join(CASES)})")
    try:
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    print(f"bench_examples: one epoch, {args.limit} training and {args.test_images} test images, "
          f"--num-workers {args.num_workers}, median of {args.repeat}; load avg {load}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="norch_bench_examples_") as tmp:
        data = write_data(tmp, args.limit, args.test_images, np.random.default_rng(0))
        torch_examples = torch_copy(tmp)
        for case in cases:
            folder, extra = CASES[case]
            argv = ["--data-dir", data[folder], "--epochs", "1", "--limit", str(args.limit),
                    "--num-workers", str(args.num_workers), "--checkpoint", os.path.join(tmp, f"{case}.ck")] + extra
            if folder == "cifar10":
                argv += ["--width", str(args.width)]
            scripts = {"norch": os.path.join(EXAMPLES, folder, "main.py"),
                       "torch": os.path.join(torch_examples, folder, "main.py")}
            for threads in threads_list:
                train = {"norch": [], "torch": []}
                test = {"norch": [], "torch": []}
                losses = {}
                for _ in range(args.repeat):
                    for lib in ("norch", "torch"):  # interleaved, so a burst of load hits both
                        tr, te, loss = run_epoch(lib, scripts[lib], argv, threads, args.timeout)
                        train[lib].append(tr)
                        test[lib].append(te)
                        losses[lib] = loss
                med = {lib: (statistics.median(train[lib]), statistics.median(test[lib])) for lib in train}
                rows.append((case, threads, med["norch"], med["torch"], losses["norch"], losses["torch"]))
                print(f"  {case}, {threads} thread(s): training pass norch "
                      f"{[round(x, 2) for x in train['norch']]} s, torch {[round(x, 2) for x in train['torch']]} s",
                      flush=True)
    head = ["case", "threads", "norch train", "torch train", "norch/torch", "norch test", "torch test",
            "norch/torch", "loss norch", "loss torch"]
    lines = [[c, str(t), f"{n[0]:.2f} s", f"{tt[0]:.2f} s", f"{n[0] / tt[0]:.2f}", f"{n[1]:.2f} s", f"{tt[1]:.2f} s",
              f"{n[1] / tt[1]:.2f}", f"{ln:.4f}", f"{lt:.4f}"] for c, t, n, tt, ln, lt in rows]
    widths = [max(len(r[i]) for r in [head] + lines) for i in range(len(head))]
    print("\nexample epochs: the training pass and the test pass of epoch 1 (ratio below 1: norch is faster)")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for r in lines:
        print("  ".join(x.ljust(w) for x, w in zip(r, widths)))


if __name__ == "__main__":
    main()
