"""Single-image super-resolution in the style of the sub-pixel convolution example: low-
resolution inputs made by average pooling, a small Conv2d/Tanh network ending in
nn.PixelShuffle(upscale_factor), MSELoss with Adam, and PSNR on held-out images, compared
with the bilinear nn.Upsample baseline. Data: smooth random 16x16 images (sums of sinusoids)."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

UPSCALE = 2


def make_images(n, rng, size=16):
    yy, xx = np.mgrid[0:size, 0:size] / size
    images = np.zeros((n, 1, size, size))
    for img in images:
        for _ in range(3):
            fy, fx, phase = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 2 * np.pi)
            img[0] += np.sin(2 * np.pi * (fy * yy + fx * xx) + phase)
    return (0.5 + images / 6).astype(np.float32)


class Net(nn.Module):
    def __init__(self, upscale_factor):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(16, 8, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(8, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)

    def forward(self, x):
        x = torch.tanh(self.conv1(x))
        x = torch.tanh(self.conv2(x))
        return self.pixel_shuffle(self.conv3(x))


def psnr(mse):
    return 10 * math.log10(1 / mse)


def main(steps=30, seed=0, init=None):
    """The training loss of every step, then the held-out MSE of the model and of bilinear upsampling."""
    rng = np.random.default_rng(seed)
    target = torch.from_numpy(make_images(80, rng))
    inputs = F.avg_pool2d(target, UPSCALE)
    train_loader = DataLoader(TensorDataset(inputs[:64], target[:64]), batch_size=16)
    test_input, test_target = inputs[64:], target[64:]

    model = Net(upscale_factor=UPSCALE)
    if init is not None:
        init(model)
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=3e-3)

    losses = []
    while len(losses) < steps:
        for lr_img, hr_img in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(lr_img), hr_img)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break

    model.eval()
    with torch.no_grad():
        mse = criterion(model(test_input), test_target).item()
        bilinear = nn.Upsample(scale_factor=UPSCALE, mode="bilinear", align_corners=False)
        baseline = criterion(bilinear(test_input), test_target).item()
    assert psnr(mse) > 0 and psnr(baseline) > 0
    return losses + [mse, baseline]
