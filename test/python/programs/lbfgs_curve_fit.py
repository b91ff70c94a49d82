"""Curve fitting with L-BFGS the way the optimizer's documentation shows it: a small model
(a damped sinusoid's parameters as nn.Parameter, plus a tiny MLP correction) fitted to noisy
samples by optim.LBFGS with a closure and line_search_fn="strong_wolfe"."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class DampedSine(nn.Module):
    def __init__(self):
        super().__init__()
        self.amplitude = nn.Parameter(torch.tensor(1.0))
        self.decay = nn.Parameter(torch.tensor(0.1))
        self.frequency = nn.Parameter(torch.tensor(1.5))
        self.phase = nn.Parameter(torch.zeros(1))
        self.correction = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))

    def forward(self, t):
        wave = self.amplitude * torch.exp(-self.decay * t) * torch.sin(self.frequency * t + self.phase)
        return wave + 0.1 * self.correction(t.unsqueeze(-1)).squeeze(-1)


def main(steps=8, seed=0, init=None):
    """The loss at the start of every optimizer.step (each up to max_iter L-BFGS iterations), then the final loss."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 6.0, 80)
    y = 1.7 * np.exp(-0.3 * t) * np.sin(2.0 * t + 0.5) + rng.normal(0.0, 0.02, t.shape)
    t, y = torch.tensor(t, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)

    model = DampedSine()
    if init is not None:
        init(model)
        with torch.no_grad():   # start the physical parameters near a sensible guess
            model.frequency.fill_(1.6)
            model.decay.fill_(0.1)
    optimizer = optim.LBFGS(model.parameters(), lr=1, max_iter=3, history_size=10,
                            line_search_fn="strong_wolfe")
    loss_fn = nn.MSELoss()

    losses = []
    for _ in range(steps):
        def closure():
            optimizer.zero_grad()
            loss = loss_fn(model(t), y)
            loss.backward()
            return loss
        loss = optimizer.step(closure)      # the loss at the start of the step
        losses.append(loss.item())
    with torch.no_grad():
        losses.append(loss_fn(model(t), y).item())
    assert math.isfinite(losses[-1])
    return losses
