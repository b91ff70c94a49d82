"""A GAN in the style of the DCGAN tutorial's training loop, with MLPs on 2-D points: a
generator from latent noise, a discriminator giving logits, BCEWithLogitsLoss, two Adam
optimizers, the discriminator step on real and detached fake samples, then the generator step
with flipped labels. Noise is drawn with NumPy so that runs repeat. Data: points on a ring."""
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

LATENT = 4


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Linear(LATENT, 32), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(32, 32), nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(32, 2),
        )

    def forward(self, z):
        return self.main(z)


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(
            nn.Linear(2, 32), nn.LeakyReLU(0.2),
            nn.Linear(32, 32), nn.LeakyReLU(0.2),
            nn.Linear(32, 1),
        )

    def forward(self, x):
        return self.main(x).view(-1)


def weights_init(m):
    # the DCGAN recipe: small normal weights, zero biases, applied module by module
    if isinstance(m, nn.Linear):
        nn.init.normal_(m.weight.data, 0.0, 0.2)
        nn.init.constant_(m.bias.data, 0)


def main(steps=30, seed=0, init=None, batch_size=32):
    """Per step, the discriminator's loss and the generator's loss (interleaved), then the mean
    distance of generated points from the ring before and after training."""
    rng = np.random.default_rng(seed)
    fixed_noise = torch.from_numpy(rng.standard_normal((256, LATENT)).astype(np.float32))

    def distance_from_ring():
        with torch.no_grad():
            return (netG(fixed_noise).norm(dim=1) - 2.0).abs().mean().item()

    torch.manual_seed(seed)
    netG, netD = Generator(), Discriminator()
    netG.apply(weights_init)
    netD.apply(weights_init)
    if init is not None:      # the same starting weights in every framework
        init(netG)
        init(netD)
    criterion = nn.BCEWithLogitsLoss()
    optimizerD = optim.Adam(netD.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=2e-3, betas=(0.5, 0.999))
    real_label, fake_label = 1.0, 0.0
    start_distance = distance_from_ring()

    losses = []
    for _ in range(steps):
        angle = rng.uniform(0, 2 * np.pi, batch_size)
        real = torch.from_numpy(np.stack([np.cos(angle), np.sin(angle)], 1).astype(np.float32) * 2.0)
        noise = torch.from_numpy(rng.standard_normal((batch_size, LATENT)).astype(np.float32))

        # (1) update D: maximize log(D(x)) + log(1 - D(G(z)))
        netD.zero_grad()
        label = torch.full((batch_size,), real_label, dtype=torch.float)
        errD_real = criterion(netD(real), label)
        errD_real.backward()
        fake = netG(noise)
        label.fill_(fake_label)
        errD_fake = criterion(netD(fake.detach()), label)
        errD_fake.backward()
        errD = errD_real + errD_fake
        optimizerD.step()

        # (2) update G: maximize log(D(G(z)))
        netG.zero_grad()
        label.fill_(real_label)
        errG = criterion(netD(fake), label)
        errG.backward()
        optimizerG.step()
        losses += [errD.item(), errG.item()]

    losses += [start_distance, distance_from_ring()]
    return losses
