"""A convolutional autoencoder in the style of the denoising-autoencoder tutorials: a custom
Dataset with a transform pipeline, a Conv2d encoder with strides and a ConvTranspose2d decoder,
trained on noisy inputs against clean targets with MSELoss, Adam and a LambdaLR warm-up.
Data: 1x8x8 images of random rectangles."""
import numpy as np
import torch
import torch.nn as nn
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader, Dataset


class Rectangles(Dataset):
    """Clean images made once; `transform` turns each into the (input, target) pair."""

    def __init__(self, n, seed, transform=None):
        rng = np.random.default_rng(seed)
        self.images = np.zeros((n, 1, 8, 8), dtype=np.float32)
        for img in self.images:
            top, left = rng.integers(0, 5, 2)
            h, w = rng.integers(2, 5, 2)
            img[0, top:top + h, left:left + w] = 1.0
        self.noise = rng.normal(0.0, 0.3, self.images.shape).astype(np.float32)
        self.transform = transform

    def __len__(self):
        return len(self.images)

    def __getitem__(self, idx):
        clean = torch.from_numpy(self.images[idx])
        noisy = clean + torch.from_numpy(self.noise[idx])
        if self.transform is not None:
            noisy = self.transform(noisy)
        return noisy, clean


class Normalize:
    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    def __call__(self, x):
        return (x - self.mean) / self.std


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1),   # 8 x 4 x 4
            nn.ReLU(),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),  # 16 x 2 x 2
            nn.ReLU(),
        )
        self.decoder = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1),  # 8 x 4 x 4
            nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 3, stride=2, padding=1, output_padding=1),   # 1 x 8 x 8
            nn.Sigmoid(),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x))


def main(steps=30, seed=0, init=None):
    """The training loss of every step, then the mean loss over the data in eval mode."""
    dataset = Rectangles(96, seed, transform=Normalize(0.2, 0.5))
    loader = DataLoader(dataset, batch_size=16, shuffle=False, num_workers=0)
    model = AutoEncoder()
    if init is not None:
        init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-5)
    warmup = 5
    scheduler = LambdaLR(optimizer, lr_lambda=lambda step: min(1.0, (step + 1) / warmup))
    criterion = nn.MSELoss()

    losses = []
    while len(losses) < steps:
        for noisy, clean in loader:
            optimizer.zero_grad()
            loss = criterion(model(noisy), clean)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break

    model.eval()
    total = 0.0
    with torch.no_grad():
        for noisy, clean in loader:
            total += criterion(model(noisy), clean).item() * len(noisy)
    losses.append(total / len(dataset))
    return losses
