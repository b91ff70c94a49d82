"""A variational autoencoder in the style of the PyTorch VAE example: an MLP encoder to (mu,
logvar), the reparameterization trick, an MLP decoder with a sigmoid output, and the loss
BCE(reconstruction, x, reduction='sum') + KL(q(z|x) || N(0, I)), trained with Adam.
The noise of the reparameterization is drawn with NumPy and passed in, so that runs of the
program are repeatable; without it the model draws its own with randn_like.
Data: 8x8 images in [0, 1], noisy versions of four prototype shapes."""
import numpy as np
import torch
from torch import nn, optim
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset


def make_images(n, rng):
    yy, xx = np.mgrid[0:8, 0:8]
    prototypes = np.stack([(yy < 4), (xx < 4), (yy == xx) | (yy == 7 - xx), ((yy - 3.5) ** 2 + (xx - 3.5) ** 2) < 9])
    pick = rng.integers(0, len(prototypes), n)
    images = np.clip(prototypes[pick] * 0.8 + 0.1 + rng.normal(0.0, 0.1, (n, 8, 8)), 0.0, 1.0)
    return images.reshape(n, 64).astype(np.float32)


class VAE(nn.Module):
    def __init__(self, input_dim=64, hidden_dim=32, latent_dim=4):
        super().__init__()
        self.fc1 = nn.Linear(input_dim, hidden_dim)
        self.fc21 = nn.Linear(hidden_dim, latent_dim)
        self.fc22 = nn.Linear(hidden_dim, latent_dim)
        self.fc3 = nn.Linear(latent_dim, hidden_dim)
        self.fc4 = nn.Linear(hidden_dim, input_dim)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, eps=None):
        std = torch.exp(0.5 * logvar)
        if eps is None:
            eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, eps=None):
        mu, logvar = self.encode(x.view(-1, 64))
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    bce = F.binary_cross_entropy(recon_x, x.view(-1, 64), reduction="sum")
    kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return bce + kld


def main(steps=30, seed=0, init=None, batch_size=16):
    """The per-sample training loss of every step, then the held-out loss at the posterior means."""
    rng = np.random.default_rng(seed)
    train_loader = DataLoader(TensorDataset(torch.from_numpy(make_images(128, rng))),
                              batch_size=batch_size, shuffle=False)
    test_images = torch.from_numpy(make_images(32, rng))

    model = VAE()
    if init is not None:
        init(model)
    optimizer = optim.Adam(model.parameters(), lr=1e-2)

    losses = []
    model.train()
    while len(losses) < steps:
        for (data,) in train_loader:
            eps = torch.from_numpy(rng.standard_normal((data.shape[0], 4)).astype(np.float32))
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data, eps)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            optimizer.step()
            losses.append(loss.item() / len(data))
            if len(losses) == steps:
                break

    model.eval()
    with torch.no_grad():
        recon, mu, logvar = model(test_images, eps=torch.zeros(len(test_images), 4))
        test_loss = loss_function(recon, test_images, mu, logvar).item() / len(test_images)
        # sampling from the prior, with the model's own noise: only the shape is framework-independent
        sample = model.decode(torch.randn(8, 4))
        assert sample.shape == (8, 64) and bool(((sample >= 0) & (sample <= 1)).all())
    losses.append(test_loss)
    return losses
