"""Metric learning in the style of the Siamese/triplet-network examples: a custom Dataset that
returns (anchor, positive, negative) triplets, an embedding MLP with L2-normalized outputs,
nn.TripletMarginLoss, SGD with momentum and a MultiStepLR schedule; evaluated by how often
nn.CosineSimilarity ranks the positive above the negative. Data: points around eight
class centres in 16 dimensions."""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset


class TripletDataset(Dataset):
    def __init__(self, n, rng, centers):
        self.labels = rng.integers(0, len(centers), n)
        self.points = (centers[self.labels] + rng.normal(0.0, 1.0, (n, centers.shape[1]))).astype(np.float32)
        by_class = {c: np.flatnonzero(self.labels == c) for c in range(len(centers))}
        self.triplets = []
        for i, c in enumerate(self.labels):
            pos = rng.choice(by_class[c])
            neg = rng.choice(np.flatnonzero(self.labels != c))
            self.triplets.append((i, int(pos), int(neg)))

    def __len__(self):
        return len(self.triplets)

    def __getitem__(self, index):
        a, p, n = self.triplets[index]
        return tuple(torch.from_numpy(self.points[j]) for j in (a, p, n))


class EmbeddingNet(nn.Module):
    def __init__(self, in_dim=16, out_dim=8):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(in_dim, 32), nn.PReLU(), nn.Linear(32, 32), nn.PReLU(),
                                nn.Linear(32, out_dim))

    def forward(self, x):
        return F.normalize(self.fc(x), p=2, dim=1)


def main(steps=4, seed=0, init=None):
    """`steps` epochs: every batch's triplet loss, then the fraction of held-out triplets
    ranked correctly, before and after training."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 0.4, (8, 16))
    train_set, test_set = TripletDataset(128, rng, centers), TripletDataset(64, rng, centers)
    train_loader = DataLoader(train_set, batch_size=32, shuffle=False)
    test_loader = DataLoader(test_set, batch_size=64)

    model = EmbeddingNet()
    if init is not None:
        init(model)
    criterion = nn.TripletMarginLoss(margin=0.5, p=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[2, 3], gamma=0.3)
    cos = nn.CosineSimilarity(dim=1, eps=1e-6)

    def ranking_accuracy():
        model.eval()
        correct = 0
        with torch.no_grad():
            for anchor, positive, negative in test_loader:
                ea, ep, en = model(anchor), model(positive), model(negative)
                correct += (cos(ea, ep) > cos(ea, en)).sum().item()
        return correct / len(test_set)

    before = ranking_accuracy()
    losses = []
    for epoch in range(steps):
        model.train()
        for anchor, positive, negative in train_loader:
            optimizer.zero_grad()
            loss = criterion(model(anchor), model(positive), model(negative))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        scheduler.step()
    return losses + [before, ranking_accuracy()]
