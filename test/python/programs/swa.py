"""Stochastic weight averaging as the torch.optim.swa_utils documentation lays it out: a
BatchNorm MLP trained with SGD under CosineAnnealingLR, then from swa_start an AveragedModel
updated every epoch with the learning rate held by SWALR, update_bn over the loader to
recompute the averaged model's BatchNorm statistics, and the averaged model evaluated.
Data: a noisy two-moons-like problem in 2-D."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import SWALR, AveragedModel, update_bn
from torch.utils.data import DataLoader, TensorDataset


def make_moons(n, rng):
    t = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    x = np.stack([np.cos(t) + label * 1.0 - 0.5, np.sin(t) * (1 - 2 * label) + label * 0.3], 1)
    return (x + rng.normal(0, 0.15, x.shape)).astype(np.float32), label.astype(np.int64)


def main(steps=8, seed=0, init=None, swa_start=4):
    """`steps` epochs: each epoch's mean training loss; then the test loss of the last model and
    of the SWA-averaged model."""
    rng = np.random.default_rng(seed)
    x, y = make_moons(256, rng)
    loader = DataLoader(TensorDataset(torch.from_numpy(x[:192]), torch.from_numpy(y[:192])), batch_size=32)
    x_test, y_test = torch.from_numpy(x[192:]), torch.from_numpy(y[192:])

    model = nn.Sequential(nn.Linear(2, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 2))
    if init is not None:
        init(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    swa_model = AveragedModel(model)
    swa_scheduler = SWALR(optimizer, swa_lr=0.05, anneal_epochs=2, anneal_strategy="cos")

    losses = []
    for epoch in range(steps):
        model.train()
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item()
        losses.append(total / len(loader))
        if epoch >= swa_start:
            swa_model.update_parameters(model)
            swa_scheduler.step()
        else:
            scheduler.step()

    update_bn(loader, swa_model)
    model.eval()
    swa_model.eval()
    with torch.no_grad():
        losses.append(F.cross_entropy(model(x_test), y_test).item())
        losses.append(F.cross_entropy(swa_model(x_test), y_test).item())
    assert int(swa_model.n_averaged) == steps - swa_start
    return losses
