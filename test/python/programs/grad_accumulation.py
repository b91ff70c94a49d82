"""Training with gradient accumulation, a custom batch Sampler and a dict-returning Dataset, as
larger-model recipes do: sequences bucketed by length by a BatchSampler subclass (batches of
similar lengths, in a fixed order), a Dataset whose items are dicts collated by the default
collate_fn per bucket, the loss divided by the accumulation steps with optimizer.step() every
few micro-batches, Adagrad, and the global gradient norm monitored with clip_grad_norm_
(max_norm=inf). Model: a 1-D CNN over embeddings with global max pooling; the label is whether
token 3 occurs."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Sampler


class TokenDataset(Dataset):
    def __init__(self, n, rng, vocab=8):
        self.items = []
        for _ in range(n):
            tokens = rng.integers(1, vocab, int(rng.integers(5, 13)))
            self.items.append({"tokens": torch.from_numpy(tokens), "label": int((tokens == 3).any())})

    def __len__(self):
        return len(self.items)

    def __getitem__(self, idx):
        return self.items[idx]


class BucketBatchSampler(Sampler):
    """Batches of indices with equal sequence length, longest first; a fixed order."""

    def __init__(self, lengths, batch_size):
        self.batches = []
        for length in sorted(set(lengths), reverse=True):
            idx = [i for i, n in enumerate(lengths) if n == length]
            self.batches += [idx[i:i + batch_size] for i in range(0, len(idx), batch_size)]

    def __iter__(self):
        return iter(self.batches)

    def __len__(self):
        return len(self.batches)


class ConvClassifier(nn.Module):
    def __init__(self, vocab=8, dim=16, channels=24):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.conv = nn.Conv1d(dim, channels, kernel_size=3, padding=1)
        self.out = nn.Linear(channels, 1)

    def forward(self, tokens):
        h = self.embed(tokens).transpose(1, 2)          # (B, dim, L)
        h = F.relu(self.conv(h))
        h = F.adaptive_max_pool1d(h, 1).squeeze(-1)    # (B, channels)
        return self.out(h).squeeze(-1)


def main(steps=3, seed=0, init=None, accumulation_steps=4):
    """`steps` epochs: the summed loss of every optimizer step, then the gradient norms seen."""
    rng = np.random.default_rng(seed)
    dataset = TokenDataset(160, rng)
    sampler = BucketBatchSampler([len(item["tokens"]) for item in dataset.items], batch_size=8)
    loader = DataLoader(dataset, batch_sampler=sampler)

    model = ConvClassifier()
    if init is not None:
        init(model)
    optimizer = torch.optim.Adagrad(model.parameters(), lr=0.05)
    losses, norms = [], []
    for epoch in range(steps):
        optimizer.zero_grad()
        running = 0.0
        for i, batch in enumerate(loader):
            logits = model(batch["tokens"])
            loss = F.binary_cross_entropy_with_logits(logits, batch["label"].float())
            (loss / accumulation_steps).backward()
            running += loss.item() / accumulation_steps
            if (i + 1) % accumulation_steps == 0 or i + 1 == len(loader):
                norms.append(nn.utils.clip_grad_norm_(model.parameters(), max_norm=math.inf).item())
                optimizer.step()
                optimizer.zero_grad()
                losses.append(running)
                running = 0.0
    return losses + norms
