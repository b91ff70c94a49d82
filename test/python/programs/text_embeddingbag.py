"""Text classification in the style of the EmbeddingBag tutorial: a tokenizer and vocabulary
built from the training text, a collate_batch that concatenates token ids and records offsets,
nn.EmbeddingBag (mean mode) into a Linear layer, SGD with a large learning rate, gradient
clipping and StepLR, and a per-epoch evaluation. Data: sentences from four topics' words."""
import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

TOPICS = [
    "goal match team score league player coach win",
    "stock market price trade bank profit share fund",
    "planet star orbit telescope galaxy space rocket moon",
    "recipe oven flour sugar bake butter dough taste",
]
COMMON = "the a of and to in is it that on".split()


def make_corpus(n, rng):
    words = [t.split() for t in TOPICS]
    corpus = []
    for _ in range(n):
        label = int(rng.integers(len(TOPICS)))
        length = int(rng.integers(4, 12))
        text = [words[label][rng.integers(8)] if rng.random() < 0.4 else COMMON[rng.integers(10)]
                for _ in range(length)]
        corpus.append((label, " ".join(text)))
    return corpus


def tokenizer(text):
    return text.lower().split()


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, mode="mean")
        self.fc = nn.Linear(embed_dim, num_class)

    def forward(self, text, offsets):
        embedded = self.embedding(text, offsets)
        return self.fc(embedded)


def main(steps=4, seed=0, init=None):
    """`steps` epochs: every batch's loss, then after each epoch the validation loss."""
    rng = np.random.default_rng(seed)
    train_iter, val_iter = make_corpus(192, rng), make_corpus(64, rng)
    vocab = {"<unk>": 0}
    for _, text in train_iter:
        for token in tokenizer(text):
            vocab.setdefault(token, len(vocab))

    def text_pipeline(x):
        return [vocab.get(token, 0) for token in tokenizer(x)]

    def collate_batch(batch):
        label_list, text_list, offsets = [], [], [0]
        for _label, _text in batch:
            label_list.append(_label)
            processed_text = torch.tensor(text_pipeline(_text), dtype=torch.int64)
            text_list.append(processed_text)
            offsets.append(processed_text.size(0))
        label_list = torch.tensor(label_list, dtype=torch.int64)
        offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
        text_list = torch.cat(text_list)
        return label_list, text_list, offsets

    train_dataloader = DataLoader(train_iter, batch_size=16, shuffle=False, collate_fn=collate_batch)
    valid_dataloader = DataLoader(val_iter, batch_size=32, shuffle=False, collate_fn=collate_batch)
    model = TextClassificationModel(len(vocab), 16, len(TOPICS))
    if init is not None:
        init(model)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=5.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.5)

    losses = []
    for epoch in range(steps):
        model.train()
        for label, text, offsets in train_dataloader:
            optimizer.zero_grad()
            predicted_label = model(text, offsets)
            loss = criterion(predicted_label, label)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        total_loss, total_count = 0.0, 0
        with torch.no_grad():
            for label, text, offsets in valid_dataloader:
                total_loss += criterion(model(text, offsets), label).item() * label.size(0)
                total_count += label.size(0)
        losses.append(total_loss / total_count)
        scheduler.step()
    return losses
