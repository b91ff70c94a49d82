#!/usr/bin/env python3
"""A bounded fuzzer of norch's Python API, with PyTorch as the oracle.

Each case is one Python expression over a library `L` (random op from the
table in fuzz_ops.py, random shapes including 0-d, empty and huge ones, dtypes, strided
views, argument values including negative and out-of-range ones). It runs in a
forked child, first with L = norch, then with L = torch, so that a crash is seen
as the child's signal and a hang as its timeout. Results are compared: an
exception on one side only, or a different exception class, or a different
shape, dtype or value, is a mismatch.

    python tools/fuzz.py --seconds 60 --seed 1
    python tools/fuzz.py --count 500 --op sum --op as_strided --json

It prints the counts (cases, crashes by signal, hangs, mismatches by kind) and,
for each crash and mismatch class (op, kind), the shortest one-line
reproduction. The exit status is 1 when there was a crash or a hang. Children
run single-threaded under a memory limit (--memory-gb), so a runaway
allocation fails with MemoryError instead of taking the machine.
"""
import argparse
import json
import math
import os
import random
import resource
import select
import signal
import sys
import time
import warnings

# Single-threaded before any OpenMP runtime starts: libgomp's thread pool does
# not survive fork, and the children share the machine with everything else.
os.environ.setdefault("OMP_NUM_THREADS", "1")

HERE = os.path.dirname(os.path.abspath(__file__))
if os.path.isdir(os.path.join(HERE, "..", "python", "norch")) and "norch" not in sys.modules:
    # Run from a checkout: prefer an importable norch on the path (an install,
    # or PYTHONPATH), else the source tree.
    try:
        import norch  # noqa: F401
    except ImportError:
        sys.path.insert(0, os.path.join(HERE, "..", "python"))

import norch  # noqa: E402

try:
    import torch  # noqa: E402
    torch.set_num_threads(1)
except ImportError:  # no oracle: crashes and hangs are still found
    torch = None

from fuzz_ops import OPS, Gen  # noqa: E402  (the table of generated calls)


# --- running and comparing -------------------------------------------------

def _describe(v, depth=0):
    """A JSON-able summary of a result, to compare across libraries."""
    if depth > 3:
        return ["deep"]
    mod = type(v).__module__ or ""
    if hasattr(v, "tolist") and hasattr(v, "dtype") and hasattr(v, "shape") and mod.split(".")[0] in ("norch", "torch"):
        dt = str(v.dtype).split(".")[-1]
        n = 1
        for s in v.shape:
            n *= s
        vals = v.detach().reshape(-1)[:64].tolist() if n else []
        return ["tensor", list(v.shape), dt, [_num(x) for x in vals]]
    if isinstance(v, (tuple, list)) or type(v).__name__ in ("Size", "torch.return_types"):
        return ["seq", [_describe(x, depth + 1) for x in v]]
    if isinstance(v, (bool, int, float)):
        return ["num", _num(v)]
    return ["obj", type(v).__name__]


def _num(x):
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
    return x


def _evaluate(lib, expr):
    try:
        v = eval(expr, {"L": lib, "float": float})  # noqa: S307 (expressions are generated here)
        return {"ok": _describe(v)}
    except Exception as e:  # the exception class is part of the comparison
        return {"exc": type(e).__name__, "msg": str(e).splitlines()[0][:200] if str(e) else ""}


def _mapped_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(expr, wfd, memory_bytes):
    try:
        warnings.simplefilter("ignore")
        if memory_bytes:
            # On top of what is mapped already (the imported libraries).
            limit = memory_bytes + _mapped_bytes()
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.write(wfd, (json.dumps(_evaluate(norch, expr)) + "\n").encode())
        if torch is not None:
            os.write(wfd, (json.dumps(_evaluate(torch, expr)) + "\n").encode())
        os._exit(0)
    except BaseException:
        os._exit(3)


def run_case(expr, timeout, memory_bytes):
    """(status, norch result, torch result); status: ok | crash:SIG | hang | exit:N, or oracle-<that>
    when norch's result came back and torch then failed."""
    rfd, wfd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        _child(expr, wfd, memory_bytes)
    os.close(wfd)
    data = b""
    deadline = time.monotonic() + timeout
    status = None
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            status = "hang"
            break
        ready, _, _ = select.select([rfd], [], [], min(left, 0.5))
        if ready:
            chunk = os.read(rfd, 1 << 16)
            if chunk:
                data += chunk
                continue
            _, st = os.waitpid(pid, 0)
            if os.WIFSIGNALED(st):
                status = "crash:" + signal.Signals(os.WTERMSIG(st)).name
            elif os.WEXITSTATUS(st) != 0:
                status = f"exit:{os.WEXITSTATUS(st)}"
            else:
                status = "ok"
            break
    os.close(rfd)
    lines = [json.loads(x) for x in data.decode(errors="replace").splitlines() if x.strip()]
    ours = lines[0] if lines else None
    theirs = lines[1] if len(lines) > 1 else None
    if status != "ok" and ours is not None and torch is not None:
        status = "oracle-" + status  # norch finished; torch died or hung after it
    return status, ours, theirs


def _close(a, b, dtype):
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, int) and isinstance(b, int):
        return a == b
    tol = 1e-4 if dtype in ("float32", None) else 1e-9
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def compare(ours, theirs):
    """None when they agree, else the kind of mismatch."""
    if "exc" in ours or "exc" in theirs:
        if "exc" in ours and "exc" in theirs:
            return None if ours["exc"] == theirs["exc"] else "exception-class"
        return "norch-raises" if "exc" in ours else "torch-raises"
    return _compare_desc(ours["ok"], theirs["ok"])


def _compare_desc(a, b):
    if a[0] != b[0]:
        return "result-kind"
    if a[0] == "tensor":
        if a[1] != b[1]:
            return "shape"
        if a[2] != b[2]:
            return "dtype"
        if len(a[3]) != len(b[3]) or not all(_close(x, y, a[2]) for x, y in zip(a[3], b[3])):
            return "value"
        return None
    if a[0] == "seq":
        if len(a[1]) != len(b[1]):
            return "length"
        for x, y in zip(a[1], b[1]):
            k = _compare_desc(x, y)
            if k:
                return k
        return None
    if a[0] == "num":
        return None if _close(a[1], b[1], None) else "value"
    return None if a == b else "result-kind"


def fuzz(seconds, count, seed, ops, timeout, memory_gb, verbose=False):
    rng = random.Random(seed)
    gen = Gen(rng)
    names = sorted(ops)
    memory_bytes = int(memory_gb * (1 << 30)) if memory_gb else 0
    stats = {"seed": seed, "cases": 0, "crashes": {}, "hangs": 0, "oracle_crashes": 0, "mismatches": {},
             "oracle": torch is not None}
    repro = {}  # (kind, op) -> shortest expression
    start = time.monotonic()
    while stats["cases"] < count and time.monotonic() - start < seconds:
        op = gen.pick(names)
        try:
            expr = OPS[op](gen)
        except Exception as e:  # a bug in a generator, not in norch
            raise RuntimeError(f"generator {op} failed: {e}") from e
        status, ours, theirs = run_case(expr, timeout, memory_bytes)
        stats["cases"] += 1
        kind = None
        if status == "hang":
            stats["hangs"] += 1
            kind = "hang"
        elif status.startswith("crash:") or status.startswith("exit:"):
            stats["crashes"][status] = stats["crashes"].get(status, 0) + 1
            kind = status
        elif status.startswith("oracle-"):
            stats["oracle_crashes"] += 1
            kind = status
        elif ours is not None and theirs is not None:
            m = compare(ours, theirs)
            if m:
                stats["mismatches"][m] = stats["mismatches"].get(m, 0) + 1
                kind = "mismatch:" + m
        if kind:
            key = (kind, op)
            if key not in repro or len(expr) < len(repro[key][0]):
                repro[key] = (expr, ours, theirs)
            if verbose:
                print(f"[{kind}] {expr}", flush=True)
    stats["seconds"] = round(time.monotonic() - start, 1)
    stats["repro"] = [{"kind": k[0], "op": k[1], "expr": v[0], "norch": v[1], "torch": v[2]}
                      for k, v in sorted(repro.items())]
    return stats


def report(stats):
    crashes = sum(stats["crashes"].values())
    mism = sum(stats["mismatches"].values())
    print(f"fuzz: seed {stats['seed']}, {stats['cases']} cases in {stats['seconds']} s; "
          f"{crashes} crashes {stats['crashes'] or ''}, {stats['hangs']} hangs, "
          f"{mism} mismatches {stats['mismatches'] or ''}"
          + ("" if stats["oracle"] else " (no torch: no comparison)")
          + (f", {stats['oracle_crashes']} torch crashes or hangs" if stats["oracle_crashes"] else ""))
    for r in stats["repro"]:
        line = f"  [{r['kind']}] {r['op']}: python -c \"import norch as L; print({r['expr']})\""
        if r["kind"].startswith("mismatch"):
            line += f"\n      norch {json.dumps(r['norch'])[:160]}\n      torch {json.dumps(r['torch'])[:160]}"
        print(line)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60.0, help="time budget (default 60)")
    p.add_argument("--count", type=int, default=10**9, help="at most this many cases")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: fresh, printed)")
    p.add_argument("--op", action="append", choices=sorted(OPS), help="only these table entries (repeatable)")
    p.add_argument("--exclude", action="append", default=[], choices=sorted(OPS), help="leave these entries out")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds before a case counts as a hang")
    p.add_argument("--memory-gb", type=float, default=4.0, help="address-space limit of each child (0: none)")
    p.add_argument("--json", action="store_true", help="print the statistics as one JSON object")
    p.add_argument("-v", "--verbose", action="store_true", help="print every failing case as it happens")
    a = p.parse_args(argv)
    seed = a.seed if a.seed is not None else random.SystemRandom().randrange(2**32)
    ops = [o for o in (a.op or OPS) if o not in a.exclude]
    stats = fuzz(a.seconds, a.count, seed, ops, a.timeout, a.memory_gb, a.verbose)
    if a.json:
        print(json.dumps(stats))
    else:
        report(stats)
    return 1 if stats["crashes"] or stats["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
