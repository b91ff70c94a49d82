"""A sequence-to-sequence model in the style of the translation tutorial: a GRU encoder, a GRU
decoder with (Luong, dot-product) attention over the encoder outputs computed with bmm and
softmax, log_softmax outputs with NLLLoss, teacher forcing chosen per batch, two optimizers
(one per module), and greedy decoding at the end. Task: reverse a sequence of digits."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim

SOS, EOS, VOCAB = 0, 1, 12          # digits are tokens 2..11


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)

    def forward(self, input):
        return self.gru(self.embedding(input))


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size):
        super().__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(2 * hidden_size, output_size)

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.embedding(input)                                   # (B, 1, H)
        query = hidden.permute(1, 0, 2)                                    # (B, 1, H)
        scores = torch.bmm(query, encoder_outputs.transpose(1, 2))         # (B, 1, T)
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, encoder_outputs)                      # (B, 1, H)
        output, hidden = self.gru(torch.cat((embedded, context), dim=2), hidden)
        output = self.out(torch.cat((output, context), dim=2))
        return output, hidden, weights

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None, max_length=8):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long).fill_(SOS)
        decoder_hidden = encoder_hidden
        outputs = []
        length = target_tensor.size(1) if target_tensor is not None else max_length
        for i in range(length):
            decoder_output, decoder_hidden, _ = self.forward_step(decoder_input, decoder_hidden, encoder_outputs)
            outputs.append(decoder_output)
            if target_tensor is not None:
                decoder_input = target_tensor[:, i].unsqueeze(1)           # teacher forcing
            else:
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()
        return F.log_softmax(torch.cat(outputs, dim=1), dim=-1), decoder_hidden


def make_pairs(n, length, rng):
    src = rng.integers(2, VOCAB, (n, length))
    tgt = np.concatenate([src[:, ::-1], np.full((n, 1), EOS)], axis=1)
    return torch.from_numpy(src.astype(np.int64)), torch.from_numpy(np.ascontiguousarray(tgt).astype(np.int64))


def main(steps=40, seed=0, init=None, hidden_size=32, teacher_forcing_ratio=0.5):
    """The training loss of every step, then the held-out loss of greedy decoding."""
    rng = np.random.default_rng(seed)
    src, tgt = make_pairs(256, 5, rng)
    test_src, test_tgt = make_pairs(32, 5, rng)
    encoder, decoder = EncoderRNN(VOCAB, hidden_size), AttnDecoderRNN(hidden_size, VOCAB)
    if init is not None:
        init(encoder)
        init(decoder)
    encoder_optimizer = optim.Adam(encoder.parameters(), lr=5e-3)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=5e-3)
    criterion = nn.NLLLoss()

    losses, batch_size = [], 32
    for step in range(steps):
        i = (step * batch_size) % len(src)
        input_tensor, target_tensor = src[i:i + batch_size], tgt[i:i + batch_size]
        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()
        encoder_outputs, encoder_hidden = encoder(input_tensor)
        use_teacher = rng.random() < teacher_forcing_ratio
        decoder_outputs, _ = decoder(encoder_outputs, encoder_hidden, target_tensor if use_teacher else None,
                                     max_length=target_tensor.size(1))
        loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1))
        loss.backward()
        encoder_optimizer.step()
        decoder_optimizer.step()
        losses.append(loss.item())

    encoder.eval()
    decoder.eval()
    with torch.no_grad():
        encoder_outputs, encoder_hidden = encoder(test_src)
        decoder_outputs, _ = decoder(encoder_outputs, encoder_hidden, max_length=test_tgt.size(1))
        losses.append(criterion(decoder_outputs.flatten(0, 1), test_tgt.flatten()).item())
    return losses
