"""A classifier of variable-length token sequences in the style of the packed-sequence
tutorials: a Dataset of sequences of different lengths, a collate_fn that pads them with
pad_sequence and keeps their lengths, an Embedding with padding_idx, and a two-layer
bidirectional LSTM run over pack_padded_sequence(enforce_sorted=False) so padding never
enters the recurrence; pad_packed_sequence gives the outputs back for a masked mean. The
label says whether a sequence's tokens are large on average."""
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence
from torch.utils.data import DataLoader, Dataset


class VariableLengthSequences(Dataset):
    def __init__(self, n, vocab, max_len, seed):
        rng = np.random.default_rng(seed)
        self.items = []
        for _ in range(n):
            length = int(rng.integers(2, max_len + 1))
            tokens = rng.integers(1, vocab, length).astype(np.int64)
            self.items.append((tokens, int(tokens.mean() > vocab / 2)))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, idx):
        tokens, label = self.items[idx]
        return torch.from_numpy(tokens), label


def collate(batch):
    sequences, labels = zip(*batch)
    lengths = torch.tensor([len(s) for s in sequences])
    return pad_sequence(list(sequences), batch_first=True, padding_value=0), lengths, torch.tensor(labels)


class PackedClassifier(nn.Module):
    def __init__(self, vocab, embed, hidden, num_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab, embed, padding_idx=0)
        self.lstm = nn.LSTM(embed, hidden, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(4 * hidden, num_classes)

    def forward(self, tokens, lengths):
        packed = pack_padded_sequence(self.embedding(tokens), lengths, batch_first=True, enforce_sorted=False)
        output, (h_n, _) = self.lstm(packed)
        padded, out_lengths = pad_packed_sequence(output, batch_first=True)
        mask = (torch.arange(padded.size(1))[None, :] < out_lengths[:, None]).unsqueeze(-1)
        mean = (padded * mask).sum(dim=1) / out_lengths[:, None].to(padded.dtype)
        last = torch.cat([h_n[-2], h_n[-1]], dim=1)     # the top layer, both directions, at each own length
        return self.head(torch.cat([last, mean], dim=1))


def main(steps=30, seed=0, init=None):
    """The training loss of every step, then the accuracy on the training set."""
    dataset = VariableLengthSequences(96, vocab=20, max_len=12, seed=seed)
    loader = DataLoader(dataset, batch_size=16, shuffle=False, collate_fn=collate)
    model = PackedClassifier(20, 8, 12)
    if init is not None:
        init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.CrossEntropyLoss()

    losses = []
    model.train()
    while len(losses) < steps:
        for tokens, lengths, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(tokens, lengths), labels)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break

    model.eval()
    correct = 0
    with torch.no_grad():
        for tokens, lengths, labels in loader:
            correct += (model(tokens, lengths).argmax(dim=1) == labels).sum().item()
    return losses + [correct / len(dataset)]
