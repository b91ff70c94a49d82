"""The "learning PyTorch with examples" progression in one program: fitting sin(x) with a
third-order Legendre polynomial P3(c + d x) scaled and shifted, where P3 is a custom
torch.autograd.Function (forward saves its input with ctx.save_for_backward, backward returns
the hand-written derivative), the weights are plain tensors with requires_grad=True, and the
update is done by hand under torch.no_grad() with the gradients reset to None. A second stage
fits the same curve with nn.Sequential(Linear(3, 1), Flatten(0, 1)) on (x, x^2, x^3) features
and RMSprop."""
import math

import numpy as np
import torch


class LegendrePolynomial3(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


def main(steps=40, seed=0, init=None):
    """Every 5 manual steps of stage one, the loss; then every 5 RMSprop steps of stage two."""
    rng = np.random.default_rng(seed)
    dtype = torch.float
    x = torch.linspace(-math.pi, math.pi, 400, dtype=dtype)
    y = torch.sin(x)

    a, b, c, d = (torch.full((), float(v), dtype=dtype, requires_grad=True)
                  for v in (0.0, -1.0, 0.0, 0.3) + rng.normal(0.0, 0.05, 4))
    learning_rate = 5e-6
    losses = []
    for t in range(steps):
        P3 = LegendrePolynomial3.apply
        y_pred = a + b * P3(c + d * x)
        loss = (y_pred - y).pow(2).sum()
        if t % 5 == 0:
            losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None

    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    if init is not None:
        init(model)
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-2)
    for t in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        if t % 5 == 0:
            losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses
