"""The shape of the PyTorch quickstart: a Dataset, DataLoaders, an nn.Flatten + nn.Sequential
network moved to the available device, `train` and `test` functions over the loaders
(accuracy counted with (pred.argmax(1) == y).type(torch.float).sum()), the weights saved with
torch.save(model.state_dict(), ...) and loaded into a fresh model that makes the same
predictions. Data: 8x8 images, noisy copies of five random prototypes."""
import os
import tempfile

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"


def make_split(prototypes, n, rng):
    labels = rng.integers(0, len(prototypes), n)
    images = prototypes[labels] + rng.normal(0.0, 0.7, (n, 8, 8))
    return TensorDataset(torch.tensor(images, dtype=torch.float32), torch.tensor(labels))


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(8 * 8, 64),
            nn.ReLU(),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Linear(64, 5),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


def train(dataloader, model, loss_fn, optimizer, losses):
    model.train()
    for batch, (X, y) in enumerate(dataloader):
        X, y = X.to(device), y.to(device)
        pred = model(X)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())


def test(dataloader, model, loss_fn):
    size = len(dataloader.dataset)
    num_batches = len(dataloader)
    model.eval()
    test_loss, correct = 0, 0
    with torch.no_grad():
        for X, y in dataloader:
            X, y = X.to(device), y.to(device)
            pred = model(X)
            test_loss += loss_fn(pred, y).item()
            correct += (pred.argmax(1) == y).type(torch.float).sum().item()
    return test_loss / num_batches, correct / size


def main(steps=5, seed=0, init=None):
    """`steps` epochs: every batch's training loss and, after each epoch, the test loss;
    then the final test accuracy."""
    rng = np.random.default_rng(seed)
    prototypes = rng.normal(0.0, 1.0, (5, 8, 8))
    training_data, test_data = make_split(prototypes, 160, rng), make_split(prototypes, 60, rng)
    train_dataloader = DataLoader(training_data, batch_size=32)
    test_dataloader = DataLoader(test_data, batch_size=32)

    model = NeuralNetwork()
    if init is not None:
        init(model)
    model = model.to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)

    losses = []
    for t in range(steps):
        train(train_dataloader, model, loss_fn, optimizer, losses)
        test_loss, accuracy = test(test_dataloader, model, loss_fn)
        losses.append(test_loss)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.pth")
        torch.save(model.state_dict(), path)
        loaded = NeuralNetwork().to(device)
        loaded.load_state_dict(torch.load(path, weights_only=True))
    loaded.eval()
    x, y = test_data[0][0], test_data[0][1]
    with torch.no_grad():
        x = x.to(device)
        assert torch.equal(loaded(x.unsqueeze(0)), model(x.unsqueeze(0)))
    losses.append(accuracy)
    return losses
