"""A tiny GPT in the style of the minimal-transformer tutorials, with hand-written blocks:
token and learned position embeddings, pre-norm blocks of causal nn.MultiheadAttention (a
boolean upper-triangular attn_mask) and a GELU MLP with residual connections, weight tying
between the embedding and the output head, AdamW with a linear warm-up then cosine decay
through LambdaLR, and gradient clipping. Trained to predict the next token of sequences
from a small repeating grammar."""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, d_model, n_head):
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = nn.MultiheadAttention(d_model, n_head, dropout=0.0, batch_first=True)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model), nn.GELU(approximate="tanh"),
                                 nn.Linear(4 * d_model, d_model))

    def forward(self, x, causal_mask):
        h = self.ln1(x)
        attn_out, _ = self.attn(h, h, h, attn_mask=causal_mask, need_weights=False)
        x = x + attn_out
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self, vocab_size, block_size, d_model=32, n_head=4, n_layer=2):
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Parameter(torch.zeros(1, block_size, d_model))
        self.blocks = nn.ModuleList([Block(d_model, n_head) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)

    def tie_weights(self):
        self.head.weight = self.tok_emb.weight

    def forward(self, idx, targets=None):
        b, t = idx.size()
        mask = torch.triu(torch.ones(t, t, dtype=torch.bool), diagonal=1)
        x = self.tok_emb(idx) + self.pos_emb[:, :t, :]
        for block in self.blocks:
            x = block(x, mask)
        logits = self.head(self.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss

    @torch.no_grad()
    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -self.block_size:])
            next_token = logits[:, -1, :].argmax(dim=-1, keepdim=True)
            idx = torch.cat((idx, next_token), dim=1)
        return idx


def make_corpus(n_tokens, rng):
    # phrases of a tiny grammar: each phrase is a fixed pattern of token ids, chosen at random
    phrases = [[1, 2, 3, 4], [5, 6, 7], [1, 8, 9], [10, 2, 11, 4, 3]]
    tokens = []
    while len(tokens) < n_tokens:
        tokens += phrases[rng.integers(len(phrases))] + [0]
    return np.array(tokens[:n_tokens], dtype=np.int64)


def main(steps=30, seed=0, init=None, block_size=16, batch_size=8):
    """The training loss of every step, then the loss on held-out text."""
    rng = np.random.default_rng(seed)
    data = torch.from_numpy(make_corpus(2000, rng))
    train_data, val_data = data[:1600], data[1600:]

    def get_batch(split):
        source = train_data if split == "train" else val_data
        ix = rng.integers(0, len(source) - block_size - 1, batch_size)
        x = torch.stack([source[i:i + block_size] for i in ix])
        y = torch.stack([source[i + 1:i + 1 + block_size] for i in ix])
        return x, y

    model = TinyGPT(vocab_size=12, block_size=block_size)
    if init is not None:
        init(model)
    model.tie_weights()
    assert model.head.weight is model.tok_emb.weight
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=3e-3, betas=(0.9, 0.95))
    warmup = 5

    def lr_lambda(step):
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)

    losses = []
    model.train()
    for _ in range(steps):
        xb, yb = get_batch("train")
        _, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())

    model.eval()
    with torch.no_grad():
        xb, yb = get_batch("val")
        _, val_loss = model(xb, yb)
    out = model.generate(torch.tensor([[1]]), max_new_tokens=8)
    assert out.shape == (1, 9)
    losses.append(val_loss.item())
    return losses
