"""A sequence classifier in the style of the RNN tutorials: a custom Dataset of random
sequences, a two-layer bidirectional LSTM (batch_first) whose top layer's final hidden states
feed a Linear head, Adam with gradient clipping by clip_grad_norm_. The label says whether the
running sum of a sequence's first feature ends positive."""
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils import clip_grad_norm_
from torch.utils.data import DataLoader, Dataset


class RandomSequences(Dataset):
    def __init__(self, n, length, features, seed):
        rng = np.random.default_rng(seed)
        self.seqs = rng.normal(0.0, 1.0, (n, length, features)).astype(np.float32)
        self.labels = (self.seqs[:, :, 0].sum(axis=1) > 0).astype(np.int64)

    def __len__(self):
        return len(self.seqs)

    def __getitem__(self, idx):
        return torch.from_numpy(self.seqs[idx]), int(self.labels[idx])


class LSTMClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_classes=2):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden_size, num_classes)

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)
        # h_n: (num_layers * 2, batch, hidden); the top layer's forward and backward states.
        last = torch.cat([h_n[-2], h_n[-1]], dim=1)
        return self.head(last)


def main(steps=30, seed=0, init=None, max_norm=1.0):
    """The training loss of every step."""
    dataset = RandomSequences(96, length=10, features=3, seed=seed)
    loader = DataLoader(dataset, batch_size=16, shuffle=False)
    model = LSTMClassifier(3, 16)
    if init is not None:
        init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()

    losses = []
    while len(losses) < steps:
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            total_norm = clip_grad_norm_(model.parameters(), max_norm=max_norm)
            assert torch.isfinite(total_norm)
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
    return losses
