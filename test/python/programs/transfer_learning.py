"""Fine-tuning in the style of the transfer-learning tutorial: a backbone trained on one task,
saved whole with torch.save(model) and loaded back with weights_only=False, frozen with
requires_grad_(False), its head replaced by a new nn.Linear; then the tutorial's loop over
phases ('train', 'val') with torch.set_grad_enabled, running loss and correct counts
(torch.sum(preds == labels.data)), StepLR, and the best weights kept by copy.deepcopy; a
forward hook records the backbone's features. Data: 2-D points, four classes by quadrant for
pretraining and two classes by a diagonal for fine-tuning."""
import copy
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader, TensorDataset


class Backbone(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU())
        self.fc = nn.Linear(32, 4)

    def forward(self, x):
        return self.fc(self.features(x))


def make_points(n, rng, task):
    x = rng.uniform(-1.0, 1.0, (n, 2)).astype(np.float32)
    if task == "quadrant":
        y = (x[:, 0] > 0).astype(np.int64) * 2 + (x[:, 1] > 0)
    else:
        y = (x[:, 0] + 0.5 * x[:, 1] > 0.1).astype(np.int64)
    return TensorDataset(torch.from_numpy(x), torch.from_numpy(y))


def train_model(model, dataloaders, criterion, optimizer, scheduler, num_epochs, history):
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    for epoch in range(num_epochs):
        for phase in ["train", "val"]:
            model.train() if phase == "train" else model.eval()
            running_loss, running_corrects = 0.0, 0
            for inputs, labels in dataloaders[phase]:
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    _, preds = torch.max(outputs, 1)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels.data)
            if phase == "train":
                scheduler.step()
            size = len(dataloaders[phase].dataset)
            epoch_acc = running_corrects.double() / size
            history.append(running_loss / size)
            if phase == "val" and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())
    model.load_state_dict(best_model_wts)
    return model, float(best_acc)


def main(steps=4, seed=0, init=None):
    """Per epoch of pretraining and then of fine-tuning: the train and val losses; then the best
    fine-tuning accuracy."""
    rng = np.random.default_rng(seed)
    loaders = {task: {phase: DataLoader(make_points(n, rng, task), batch_size=32, shuffle=False)
                      for phase, n in (("train", 192), ("val", 64))}
               for task in ("quadrant", "diagonal")}
    criterion = nn.CrossEntropyLoss()
    history = []

    model = Backbone()
    if init is not None:
        init(model)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model, _ = train_model(model, loaders["quadrant"], criterion, optimizer,
                           lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5), steps, history)

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "backbone.pt")
        torch.save(model, path)
        model_ft = torch.load(path, weights_only=False)
    for param in model_ft.parameters():
        param.requires_grad_(False)
    model_ft.fc = nn.Linear(32, 2)          # parameters of new modules require grad by default
    if init is not None:
        init(model_ft.fc)
    assert [n for n, p in model_ft.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]

    features = []
    handle = model_ft.features.register_forward_hook(lambda module, inp, out: features.append(out.shape))
    optimizer_ft = optim.SGD(model_ft.fc.parameters(), lr=0.1, momentum=0.9)
    model_ft, best_acc = train_model(model_ft, loaders["diagonal"], criterion, optimizer_ft,
                                     lr_scheduler.StepLR(optimizer_ft, step_size=2, gamma=0.5), steps, history)
    handle.remove()
    assert features and all(tuple(s)[1:] == (32,) for s in features)
    return history + [best_acc]
