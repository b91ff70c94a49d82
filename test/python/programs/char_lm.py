"""A character-level language model in the style of the char-RNN tutorials: a text is turned
into a vocabulary and index tensor, cut into (input, next-character) windows, and an Embedding
+ GRU + Linear model is trained with cross-entropy over every position, carrying the hidden
state between batches with truncated backpropagation (detach). Ends by sampling greedily."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TEXT = ("the quick brown fox jumps over the lazy dog. "
        "a stitch in time saves nine. "
        "all that glitters is not gold. ") * 4


class CharRNN(nn.Module):
    def __init__(self, vocab_size, embed_dim=16, hidden_size=32, num_layers=1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = nn.GRU(embed_dim, hidden_size, num_layers=num_layers)
        self.decoder = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, hidden=None):
        # x: (seq_len, batch) of character indices
        output, hidden = self.rnn(self.embed(x), hidden)
        return self.decoder(output), hidden


def batchify(data, batch_size):
    n = data.size(0) // batch_size
    return data[:n * batch_size].view(batch_size, -1).t().contiguous()   # (n, batch)


def main(steps=30, seed=0, init=None, bptt=12, batch_size=4):
    """The training loss of every step, then the mean loss over the text after training."""
    chars = sorted(set(TEXT))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in TEXT], dtype=torch.long)
    train = batchify(data, batch_size)

    model = CharRNN(len(chars))
    if init is not None:
        init(model)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-2)

    losses = []
    while len(losses) < steps:
        hidden = None
        for i in range(0, train.size(0) - 1, bptt):
            seq_len = min(bptt, train.size(0) - 1 - i)
            inputs, targets = train[i:i + seq_len], train[i + 1:i + 1 + seq_len]
            if hidden is not None:
                hidden = hidden.detach()
            optimizer.zero_grad()
            logits, hidden = model(inputs, hidden)
            loss = criterion(logits.view(-1, len(chars)), targets.reshape(-1))
            loss.backward()
            nn.utils.clip_grad_value_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break

    model.eval()
    with torch.no_grad():
        logits, _ = model(train[:-1])
        eval_loss = F.cross_entropy(logits.flatten(0, 1), train[1:].flatten()).item()
        # greedy sampling from a prompt, feeding back one character at a time
        idx = torch.tensor([[stoi["t"]]])
        hidden, generated = None, []
        for _ in range(20):
            logits, hidden = model(idx, hidden)
            idx = logits[-1].argmax(dim=-1, keepdim=True)
            generated.append(chars[idx.item()])
    assert len("".join(generated)) == 20
    losses.append(eval_loss)
    return losses
