"""A small ResNet in the style of the torchvision BasicBlock: residual blocks with a 1x1
projection shortcut where the shape changes, BatchNorm2d, AdaptiveAvgPool2d, trained with AdamW
and a per-iteration CosineAnnealingLR, with gradients zeroed by set_to_none.
Data: 3-channel 8x8 images of horizontal stripes, vertical stripes or a checkerboard."""
import numpy as np
import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def make_patterns(n, rng):
    yy, xx = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
    labels = rng.integers(0, 3, n)
    images = rng.normal(0.0, 0.8, (n, 3, 8, 8))
    for i, c in enumerate(labels):
        phase = rng.integers(0, 2)
        pattern = [(yy + phase) % 2, (xx + phase) % 2, (xx + yy + phase) % 2][c]
        images[i] += (pattern * 2.0 - 1.0) * rng.uniform(0.3, 0.8, (3, 1, 1))
    return images.astype(np.float32), labels


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += self.shortcut(x)
        return F.relu(out)


class ResNet(nn.Module):
    def __init__(self, num_blocks=(1, 1), num_classes=3, width=8):
        super().__init__()
        self.in_planes = width
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU(inplace=True))
        self.layer1 = self._make_layer(width, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(2 * width, num_blocks[1], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(2 * width * BasicBlock.expansion, num_classes)

    def _make_layer(self, planes, blocks, stride):
        layers = []
        for s in [stride] + [1] * (blocks - 1):
            layers.append(BasicBlock(self.in_planes, planes, s))
            self.in_planes = planes * BasicBlock.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        x = self.avgpool(x)
        return self.fc(x.view(x.size(0), -1))


def main(steps=30, seed=0, init=None):
    """The training loss of every step, then the held-out loss."""
    rng = np.random.default_rng(seed)
    x, y = make_patterns(160, rng)
    train_set = TensorDataset(torch.from_numpy(x[:128]), torch.from_numpy(y[:128]))
    val_set = TensorDataset(torch.from_numpy(x[128:]), torch.from_numpy(y[128:]))
    train_loader = DataLoader(train_set, batch_size=32, shuffle=False, drop_last=True)
    val_loader = DataLoader(val_set, batch_size=32)

    torch.backends.cudnn.benchmark = True      # what GPU scripts set; a no-op on the CPU
    model = ResNet()
    if init is not None:
        init(model)
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=3e-3, betas=(0.9, 0.99))
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=1e-4)
    criterion = nn.CrossEntropyLoss(label_smoothing=0.05)

    losses = []
    while len(losses) < steps:
        model.train()
        for images, labels in train_loader:
            optimizer.zero_grad(set_to_none=True)
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break

    model.eval()
    total, count = 0.0, 0
    with torch.inference_mode():
        for images, labels in val_loader:
            logits = model(images)
            total += F.cross_entropy(logits, labels).item() * labels.numel()
            count += labels.numel()
    losses.append(total / count)
    return losses
