"""A sequence classifier with nn.TransformerEncoder, in the style of the text-classification
tutorials: variable-length token sequences right-padded by pad_sequence in the DataLoader's
collate_fn, token embeddings scaled by sqrt(d_model) plus learned position embeddings,
TransformerEncoderLayer blocks (batch_first) given both a causal mask and a
src_key_padding_mask, the output at each sequence's last real token into a Linear head; Adam
with a StepLR schedule. The label says whether token 1 occurs more often than token 2."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence
from torch.utils.data import DataLoader

PAD = 0


def make_sequences(n, max_len, vocab, rng):
    examples = []
    for length in rng.integers(3, max_len + 1, n):
        seq = rng.integers(1, vocab, length)
        examples.append((torch.from_numpy(seq), int((seq == 1).sum() > (seq == 2).sum())))
    return examples


def collate(batch):
    seqs, labels = zip(*batch)
    tokens = pad_sequence(seqs, batch_first=True, padding_value=PAD)    # padded to the batch's longest
    lengths = torch.tensor([len(s) for s in seqs])
    return tokens, lengths, torch.tensor(labels)


class TransformerClassifier(nn.Module):
    def __init__(self, vocab, max_len, d_model=32, nhead=4, num_layers=2, dim_feedforward=64,
                 num_classes=2, dropout=0.0):
        super().__init__()
        self.d_model = d_model
        self.embedding = nn.Embedding(vocab, d_model, padding_idx=PAD)
        self.pos_embedding = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=num_layers, norm=nn.LayerNorm(d_model),
                                             enable_nested_tensor=False)
        self.classifier = nn.Linear(d_model, num_classes)

    def forward(self, tokens, lengths):
        b, t = tokens.shape
        positions = torch.arange(t).unsqueeze(0).expand(b, t)
        x = self.embedding(tokens) * math.sqrt(self.d_model) + self.pos_embedding(positions)
        causal = nn.Transformer.generate_square_subsequent_mask(t)
        # an additive float mask like the causal one (-inf where a key is padding)
        padding = torch.zeros(b, t).masked_fill(tokens == PAD, float("-inf"))
        h = self.encoder(x, mask=causal, src_key_padding_mask=padding)
        last = h[torch.arange(b), lengths - 1]       # the last real token has seen the whole sequence
        return self.classifier(last)


def main(steps=30, seed=0, init=None, dropout=0.0):
    """The training loss of every step, then the held-out loss."""
    rng = np.random.default_rng(seed)
    vocab, max_len = 6, 10
    examples = make_sequences(160, max_len, vocab, rng)
    loader = DataLoader(examples[:128], batch_size=16, shuffle=False, collate_fn=collate)

    model = TransformerClassifier(vocab, max_len, dropout=dropout)
    if init is not None:
        init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.8)

    losses = []
    while len(losses) < steps:
        model.train()
        for x, length, y in loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x, length), y)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
        scheduler.step()

    model.eval()
    with torch.no_grad():
        tokens, lengths, labels = collate(examples[128:])
        losses.append(F.cross_entropy(model(tokens, lengths), labels).item())
    return losses
