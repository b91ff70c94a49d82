"""A physics-informed network in the style of the PINN tutorials: an MLP u(x) trained so that
u'' + sin(x) = 0 on [0, pi] with u(0) = u(pi) = 0 (solution: u = sin x), where u' and u''
come from torch.autograd.grad with create_graph=True, so the loss itself is differentiated
twice over; Adam with OneCycleLR. Collocation points are fixed, drawn with NumPy."""
import math

import numpy as np
import torch
import torch.nn as nn


class PINN(nn.Module):
    def __init__(self, hidden=24):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
                                 nn.Linear(hidden, 1))

    def forward(self, x):
        return self.net(x)


def main(steps=40, seed=0, init=None):
    """The total loss of every step, then the maximum error against sin(x) on a grid."""
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.uniform(0.0, math.pi, (64, 1)), dtype=torch.float32, requires_grad=True)
    boundary = torch.tensor([[0.0], [math.pi]])
    model = PINN()
    if init is not None:
        init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-1, total_steps=steps)

    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        u = model(x)
        du = torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), create_graph=True)[0]
        d2u = torch.autograd.grad(du.sum(), x, create_graph=True)[0]
        residual = d2u + torch.sin(x)
        loss = residual.pow(2).mean() + 10.0 * model(boundary).pow(2).mean()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())

    grid = torch.linspace(0, math.pi, 50).unsqueeze(1)
    with torch.no_grad():
        error = (model(grid) - torch.sin(grid)).abs().max().item()
    return losses + [error]
