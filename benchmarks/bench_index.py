"""Indexing, selection and sorting benchmarks on a 1000 x 1000 float32 matrix.

    python benchmarks/bench_index.py [--threads 1] [--repeat 15] [--cpu-time]
"""
import numpy as np

from common import Table, header, norch, parse_args, torch


def main():
    args = parse_args(__doc__)
    print(header(args))
    rng = np.random.default_rng(0)
    target = args.target_ms / 1000
    a = rng.standard_normal((1000, 1000)).astype(np.float32)
    idx = rng.integers(0, 1000, 1000)
    idx2 = rng.integers(0, 1000, (1000, 1000))
    n, ni, ng, nm = norch.from_numpy(a), norch.from_numpy(idx), norch.from_numpy(idx2), norch.from_numpy(a > 0)
    t = ti = tg = tm = None
    if torch is not None:
        t, ti, tg, tm = torch.from_numpy(a), torch.from_numpy(idx), torch.from_numpy(idx2), torch.from_numpy(a > 0)
    a_set, n_set = a.copy(), norch.from_numpy(a.copy())
    t_set = torch.from_numpy(a.copy()) if torch is not None else None

    def case(name, fn_norch, fn_numpy, fn_torch):
        tab.add(name, {"norch": fn_norch, "numpy": fn_numpy, "torch": fn_torch if torch is not None else None},
                args.repeat, target)

    tab = Table("indexing and selection, 1000 x 1000 float32")
    case("x[idx] (rows)", lambda: n[ni], lambda: a[idx], lambda: t[ti])
    case("x[:, idx] (columns)", lambda: n[:, ni], lambda: a[:, idx], lambda: t[:, ti])
    case("x[idx, idx] (pairs)", lambda: n[ni, ni], lambda: a[idx, idx], lambda: t[ti, ti])
    case("x[mask]", lambda: n[nm], lambda: a[a > 0], lambda: t[tm])
    case("x[idx] = 0", lambda: n_set.__setitem__(ni, 0.0), lambda: a_set.__setitem__(idx, 0.0),
         lambda: t_set.__setitem__(ti, 0.0))
    case("gather dim 1", lambda: n.gather(1, ng), lambda: np.take_along_axis(a, idx2, 1), lambda: t.gather(1, tg))
    case("sort dim 1", lambda: n.sort(1), lambda: np.sort(a, 1), lambda: t.sort(1))
    case("topk 10 dim 1", lambda: n.topk(10), lambda: np.partition(a, -10, 1)[:, -10:], lambda: t.topk(10))
    case("cat dim 1", lambda: norch.cat([n, n], 1), lambda: np.concatenate([a, a], 1),
         lambda: torch.cat([t, t], 1))
    case("flip dim 0", lambda: n.flip(0), lambda: np.flip(a, 0).copy(), lambda: t.flip(0))
    tab.print()


if __name__ == "__main__":
    main()
