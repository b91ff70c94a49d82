"""A tabular classifier with early stopping, as in the common "train until the validation loss
stops improving" recipe: standardized features, a train/validation split by index (Subset),
an MLP with BatchNorm1d and Dropout, Adam, and the best model's state_dict kept (deep-copied)
and restored when the patience runs out. Data: three Gaussian classes in 10 features, of which
only four carry signal."""
import copy

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Subset, TensorDataset


def make_table(n, rng):
    labels = rng.integers(0, 3, n)
    centers = rng.normal(0.0, 1.0, (3, 4))
    x = rng.normal(0.0, 1.0, (n, 10))
    x[:, :4] += centers[labels] * 1.2
    x = (x - x.mean(0)) / x.std(0)
    return x.astype(np.float32), labels.astype(np.int64)


class MLP(nn.Module):
    def __init__(self, in_features=10, hidden=32, classes=3, p=0.2):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden, bias=False), nn.BatchNorm1d(hidden), nn.GELU(), nn.Dropout(p),
            nn.Linear(hidden, hidden, bias=False), nn.BatchNorm1d(hidden), nn.GELU(), nn.Dropout(p),
            nn.Linear(hidden, classes),
        )

    def forward(self, x):
        return self.net(x)


def main(steps=40, seed=0, init=None, patience=3, dropout=0.2):
    """Per epoch (at most `steps`) the mean training loss and the validation loss; then the
    validation loss of the restored best model and the number of epochs run."""
    rng = np.random.default_rng(seed)
    x, y = make_table(240, rng)
    dataset = TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    order = rng.permutation(len(dataset))
    train_set, val_set = Subset(dataset, order[:160].tolist()), Subset(dataset, order[160:].tolist())
    train_loader = DataLoader(train_set, batch_size=32, shuffle=False)
    val_loader = DataLoader(val_set, batch_size=80)

    model = MLP(p=dropout)
    if init is not None:
        init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-2)

    best_loss, best_state, bad_epochs, losses, epochs = float("inf"), None, 0, [], 0
    for epoch in range(steps):
        model.train()
        running = 0.0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item() * xb.size(0)
        model.eval()
        with torch.no_grad():
            val_loss = sum(F.cross_entropy(model(xb), yb, reduction="sum").item() for xb, yb in val_loader)
        val_loss /= len(val_set)
        losses += [running / len(train_set), val_loss]
        epochs = epoch + 1
        if val_loss < best_loss - 1e-4:
            best_loss, best_state, bad_epochs = val_loss, copy.deepcopy(model.state_dict()), 0
        else:
            bad_epochs += 1
            if bad_epochs >= patience:
                break

    model.load_state_dict(best_state)
    model.eval()
    with torch.no_grad():
        xb, yb = next(iter(val_loader))
        restored = F.cross_entropy(model(xb), yb).item()
    assert abs(restored - best_loss) < 1e-5 * max(1.0, best_loss)
    losses += [restored, float(epochs)]
    return losses
