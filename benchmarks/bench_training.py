"""Training steps end to end (forward, backward, optimizer), norch beside PyTorch:
a 784-256-10 ReLU MLP and a LeNet-style CNN at batch 64 with SGD, and seed 002's
sine-regression example (510 single-sample steps), where per-op overhead is all.

    python benchmarks/bench_training.py [--threads 2] [--repeat 7]
"""
import math

import numpy as np

from common import Table, header, norch, parse_args, torch


def mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def lenet(lib):
    nn = lib.nn
    return nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 4 * 4, 120), nn.ReLU(), nn.Linear(120, 84),
                         nn.ReLU(), nn.Linear(84, 10))


def step_fn(lib, model, x, y):
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def batch(lib, shape, rng):
    x = lib.tensor(rng.standard_normal(shape).astype(np.float32))
    y = lib.tensor(rng.integers(0, 10, shape[0]).astype(np.int64))
    return x, y


def seed_example(lib):
    """Seed 002's training loop as written (device cpu), without the printing."""
    nn = lib.nn

    class MyModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(1, 10)
            self.sigmoid = nn.Sigmoid()
            self.fc2 = nn.Linear(10, 1)

        def forward(self, x):
            return self.fc2(self.sigmoid(self.fc1(x)))

    model = MyModel()
    criterion = nn.MSELoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=0.001)
    x_values = [i * 0.4 for i in range(51)]
    y_true = [math.pow(math.sin(x), 2) for x in x_values]
    for _ in range(10):
        for x, target in zip(x_values, y_true):
            x = lib.Tensor([[x]]).T
            target = lib.Tensor([[target]]).T
            loss = criterion(model(x), target)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def main():
    args = parse_args(__doc__)
    print(header(args))
    rng = np.random.default_rng(0)
    tab = Table("training", others=("torch",))
    libs = {"norch": norch, "torch": torch}
    for name, make, shape in (("MLP 784-256-10 step, batch 64", mlp, (64, 784)),
                              ("LeNet CNN step, batch 64", lenet, (64, 1, 28, 28))):
        data = np.random.default_rng(1)
        fns = {}
        for impl, lib in libs.items():
            if lib is None:
                continue
            fns[impl] = step_fn(lib, make(lib), *batch(lib, shape, data))
        tab.add(name, fns, args.repeat, args.target_ms / 1000)
    tab.add("seed 002 sine example, end to end",
            {impl: (lambda lib=lib: seed_example(lib)) if lib is not None else None for impl, lib in libs.items()},
            max(3, args.repeat // 3), 0.2)
    del rng
    tab.print()


if __name__ == "__main__":
    main()
