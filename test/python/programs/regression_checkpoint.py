"""A regression script that checkpoints and resumes the way the saving-and-loading tutorial
shows: an MLP on tabular features with SGD + Nesterov momentum and ReduceLROnPlateau; halfway
through, the model, optimizer and scheduler state_dicts go to a file with torch.save, fresh
objects are built and restored with torch.load / load_state_dict, and training continues.
Resuming must not change the trajectory: an uninterrupted run gives the same losses."""
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
from torch.optim import SGD
from torch.optim.lr_scheduler import ReduceLROnPlateau
from torch.utils.data import DataLoader, TensorDataset


def make_data(n, rng):
    x = rng.normal(0.0, 1.0, (n, 6)).astype(np.float32)
    w = np.array([1.5, -2.0, 0.5, 0.0, 1.0, -0.5], dtype=np.float32)
    y = x @ w + 0.5 * np.sin(2 * x[:, 0]) + 0.3 * x[:, 1] * x[:, 2] + rng.normal(0.0, 0.05, n)
    return x, y.astype(np.float32)[:, None]


def build(init):
    model = nn.Sequential(nn.Linear(6, 32), nn.SiLU(), nn.Linear(32, 32), nn.SiLU(), nn.Linear(32, 1))
    if init is not None:
        init(model)
    optimizer = SGD(model.parameters(), lr=0.02, momentum=0.9, nesterov=True)
    scheduler = ReduceLROnPlateau(optimizer, mode="min", factor=0.5, patience=1)
    return model, optimizer, scheduler


def train_epoch(model, optimizer, loader, loss_fn, losses):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())


def evaluate(model, x, y, loss_fn):
    model.eval()
    with torch.no_grad():
        return loss_fn(model(x), y).item()


def main(steps=6, seed=0, init=None, resume_at=3):
    """`steps` epochs: the training loss of every batch, and after each epoch the validation
    loss. With resume_at set, training stops after that epoch and continues from a checkpoint."""
    rng = np.random.default_rng(seed)
    x, y = make_data(160, rng)
    loader = DataLoader(TensorDataset(torch.from_numpy(x[:128]), torch.from_numpy(y[:128])), batch_size=32)
    x_val, y_val = torch.from_numpy(x[128:]), torch.from_numpy(y[128:])
    loss_fn = nn.MSELoss()

    model, optimizer, scheduler = build(init)
    losses = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "checkpoint.pt")
        for epoch in range(steps):
            train_epoch(model, optimizer, loader, loss_fn, losses)
            val_loss = evaluate(model, x_val, y_val, loss_fn)
            scheduler.step(val_loss)
            losses.append(val_loss)
            if epoch + 1 == resume_at:
                torch.save({"epoch": epoch, "model_state_dict": model.state_dict(),
                            "optimizer_state_dict": optimizer.state_dict(),
                            "scheduler_state_dict": scheduler.state_dict(), "loss": val_loss}, path)
                del model, optimizer, scheduler
                model, optimizer, scheduler = build(None)
                checkpoint = torch.load(path)
                model.load_state_dict(checkpoint["model_state_dict"])
                optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
                scheduler.load_state_dict(checkpoint["scheduler_state_dict"])
                assert checkpoint["epoch"] == epoch and checkpoint["loss"] == val_loss
    return losses
