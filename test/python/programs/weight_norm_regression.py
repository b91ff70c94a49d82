"""A regression MLP with normalized weights, as in the weight-normalization examples: the
hidden layers use nn.utils.parametrizations.weight_norm (the weight stored as a magnitude g
and a direction v), the output layer the older hook-based nn.utils.weight_norm; SGD with
momentum and weight decay, MultiStepLR. After training the parametrizations are removed
(remove_parametrizations / remove_weight_norm), which must leave the predictions as they were."""
import warnings

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils import parametrize, remove_weight_norm
from torch.nn.utils.parametrizations import weight_norm


def make_data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2.0, 2.0, (n, 3)).astype(np.float32)
    y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2] * x[:, 2:3]).astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(y)


class WeightNormMLP(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.hidden1 = weight_norm(nn.Linear(3, hidden))
        self.hidden2 = weight_norm(nn.Linear(hidden, hidden), dim=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)    # the hook-based form is deprecated
            self.out = nn.utils.weight_norm(nn.Linear(hidden, 1))
        self.act = nn.Tanh()

    def forward(self, x):
        return self.out(self.act(self.hidden2(self.act(self.hidden1(x)))))


def main(steps=40, seed=0, init=None):
    """The training loss of every step, then the largest change of the predictions when the
    normalizations are removed."""
    x, y = make_data(128, seed)
    model = WeightNormMLP()
    if init is not None:
        init(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[steps // 2], gamma=0.5)
    loss_fn = nn.MSELoss()

    losses = []
    for step in range(steps):
        batch = slice((step % 4) * 32, (step % 4 + 1) * 32)
        optimizer.zero_grad()
        loss = loss_fn(model(x[batch]), y[batch])
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())

    with torch.no_grad():
        before = model(x)
        parametrize.remove_parametrizations(model.hidden1, "weight")
        parametrize.remove_parametrizations(model.hidden2, "weight")
        remove_weight_norm(model.out)
        after = model(x)
    assert not parametrize.is_parametrized(model.hidden1) and type(model.hidden1) is nn.Linear
    return losses + [(after - before).abs().max().item()]
