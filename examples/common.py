"""Training helpers shared by the MNIST and CIFAR-10 examples: one epoch of training or
evaluation (with a tqdm bar when tqdm is installed), the epoch loop with checkpoint/resume,
and loss/accuracy curves (when matplotlib is installed)."""
import os
import sys
import time

import numpy as np

import norch
from norch.utils.data import Subset

try:
    from tqdm import tqdm
except ImportError:  # progress bars are optional
    tqdm = None


def seed_everything(seed):
    """Seeds norch and returns the generator for the shuffling DataLoader."""
    if hasattr(norch, "manual_seed"):
        norch.manual_seed(seed)
    return norch.Generator().manual_seed(seed) if hasattr(norch, "Generator") else np.random.default_rng(seed)


def open_dataset(make, script, data_dir):
    """``make()`` builds a dataset; when its files are missing or the download fails, the script stops
    with the dataset's own message plus the command-line flags that fix it (not only the Python arguments)."""
    try:
        return make()
    except RuntimeError as e:
        where = f"--data-dir {data_dir}" if data_dir else "norch's cache folder"
        raise SystemExit(f"{script}: {e}\nLooked in {where}. Run with --download to fetch the dataset, or with "
                         f"--data-dir DIR to point at a folder that already holds its files.") from None


def limit(dataset, n):
    """The first ``n`` items of ``dataset`` (all of it when ``n`` is None)."""
    if n is None:
        return dataset
    return Subset(dataset, list(range(min(n, len(dataset)))))


def run_epoch(model, loader, criterion, device, optimizer=None, scheduler=None, desc=""):
    """One pass over ``loader``; trains when an optimizer is given (stepping ``scheduler``, if
    given, after every batch). Returns (mean loss, accuracy)."""
    training = optimizer is not None
    model.train(training)
    total_loss, correct, seen = 0.0, 0, 0
    batches = tqdm(loader, desc=desc, leave=False) if tqdm is not None else loader
    with norch.set_grad_enabled(training):
        for x, y in batches:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            loss = criterion(logits, y)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
            n = len(y)
            total_loss += loss.item() * n
            correct += int((logits.detach().cpu().numpy().argmax(1) == y.cpu().numpy()).sum())
            seen += n
    return total_loss / seen, correct / seen


def plot_curves(history, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed; no plot written", file=sys.stderr)
        return
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    epochs = range(1, len(history["train_loss"]) + 1)
    for key in ("train_loss", "test_loss"):
        ax1.plot(epochs, history[key], label=key)
    for key in ("train_acc", "test_acc"):
        ax2.plot(epochs, history[key], label=key)
    ax1.set_xlabel("epoch"), ax2.set_xlabel("epoch"), ax1.legend(), ax2.legend()
    fig.savefig(path)
    print(f"wrote {path}")


def fit(model, train_loader, test_loader, criterion, optimizer, scheduler, device, args, per_batch_scheduler=False):
    """Trains for ``args.epochs`` epochs, evaluating, printing and checkpointing (``args.checkpoint``)
    after each; resumes from the checkpoint with ``args.resume`` and plots to ``args.plot``.
    The scheduler steps after every batch with ``per_batch_scheduler``, else after every epoch
    (and its learning rate is printed). Returns the history of losses and accuracies."""
    history = {"train_loss": [], "train_acc": [], "test_loss": [], "test_acc": []}
    first_epoch = 0
    if args.resume and os.path.exists(args.checkpoint):
        ck = norch.load(args.checkpoint, map_location=device)
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        scheduler.load_state_dict(ck["scheduler"])
        history, first_epoch = ck["history"], ck["epoch"]
        print(f"resumed from {args.checkpoint} at epoch {first_epoch}")

    for epoch in range(first_epoch, args.epochs):
        start = time.time()
        train_loss, train_acc = run_epoch(model, train_loader, criterion, device, optimizer,
                                          scheduler if per_batch_scheduler else None, f"epoch {epoch + 1}")
        test_loss, test_acc = run_epoch(model, test_loader, criterion, device)
        lr = ""
        if not per_batch_scheduler:
            scheduler.step()
            lr = f"lr {scheduler.get_last_lr()[0]:.2e} | "
        for key, value in zip(history, (train_loss, train_acc, test_loss, test_acc)):
            history[key].append(value)
        print(f"epoch {epoch + 1}/{args.epochs}: train loss {train_loss:.4f} acc {100 * train_acc:.2f}% | "
              f"test loss {test_loss:.4f} acc {100 * test_acc:.2f}% | {lr}{time.time() - start:.1f}s")
        norch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "history": history, "epoch": epoch + 1}, args.checkpoint)
    if args.plot:
        plot_curves(history, args.plot)
    return history
