"""A small CNN image classifier in the style of the classic MNIST/CIFAR tutorials: Conv2d,
BatchNorm2d, ReLU, MaxPool2d, Dropout and Linear, trained with SGD + momentum and a StepLR
schedule over a DataLoader, then evaluated with model.eval() under torch.no_grad().
Data: 12x12 one-channel images whose class is the quadrant holding a bright blob."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset


def make_images(n, rng):
    images = rng.normal(0.0, 0.6, (n, 1, 12, 12)).astype(np.float32)
    labels = rng.integers(0, 4, n)
    for i, c in enumerate(labels):
        r, q = divmod(int(c), 2)
        images[i, 0, r * 6 + 1:r * 6 + 5, q * 6 + 1:q * 6 + 5] += 1.0
    return images, labels.astype(np.int64)


class Net(nn.Module):
    def __init__(self, num_classes=4, dropout=0.25):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.pool = nn.MaxPool2d(2, 2)
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(16 * 3 * 3, 32)
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.bn2(self.conv2(x))))
        x = torch.flatten(x, 1)
        x = self.dropout(F.relu(self.fc1(x)))
        return self.fc2(x)


def main(steps=40, seed=0, init=None, dropout=0.25):
    """The training loss of every step, then the loss on held-out images."""
    rng = np.random.default_rng(seed)
    x_train, y_train = make_images(128, rng)
    x_test, y_test = make_images(64, rng)
    train_loader = DataLoader(TensorDataset(torch.from_numpy(x_train), torch.from_numpy(y_train)),
                              batch_size=16, shuffle=False)
    test_loader = DataLoader(TensorDataset(torch.tensor(x_test), torch.tensor(y_test)), batch_size=32)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = Net(dropout=dropout)
    if init is not None:
        init(model)
    model.to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=1e-4)
    scheduler = StepLR(optimizer, step_size=2, gamma=0.5)

    losses = []
    while len(losses) < steps:
        model.train()
        for data, target in train_loader:
            data, target = data.to(device), target.to(device)
            optimizer.zero_grad()
            output = model(data)
            loss = criterion(output, target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
        scheduler.step()

    model.eval()
    test_loss, correct = 0.0, 0
    with torch.no_grad():
        for data, target in test_loader:
            data, target = data.to(device), target.to(device)
            output = model(data)
            test_loss += F.cross_entropy(output, target, reduction="sum").item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    losses.append(test_loss / len(test_loader.dataset))
    return losses
