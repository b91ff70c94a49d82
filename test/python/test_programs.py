"""Training programs written as PyTorch users write them (programs/*.py, against `torch`) run
twice: as written under PyTorch, and with only their import lines rewritten to norch. Both runs
start from the same NumPy-drawn weights and see the same NumPy-generated batches, so norch's
losses must track PyTorch's (tightly for the first steps, within a few percent to the end:
float32 noise grows along a trajectory), and training must make progress."""
import functools
import importlib
import math
import os
import re
import sys
import types

import numpy as np
import pytest

import torch  # the oracle: required, never skipped


@pytest.fixture(autouse=True)
def _one_torch_thread():
    # On a small shared machine torch's thread pool only adds contention to these tiny models.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "programs")

# The only edits allowed on a program: what a user does when switching, on the import lines.
_IMPORT_REWRITES = [
    (re.compile(r"^(\s*)import torch\s*$"), r"\1import norch as torch"),
    (re.compile(r"^(\s*)import torch\.([\w.]+) as (\w+)\s*$"), r"\1import norch.\2 as \3"),
    (re.compile(r"^(\s*)from torch((?:\.\w+)*) import "), r"\1from norch\2 import "),
]


def to_norch(source):
    """The program's source with each `torch` import turned into the same `norch` import;
    any other mention of the torch package on an import line is refused, so nothing else
    in a program can differ between the two runs."""
    out = []
    for line in source.splitlines():
        if re.match(r"^\s*(import|from)\s+torch\b", line):
            for pattern, repl in _IMPORT_REWRITES:
                if pattern.match(line):
                    line = pattern.sub(repl, line)
                    break
            else:
                raise ValueError(f"import line the rewrite does not handle: {line!r}")
        out.append(line)
    return "\n".join(out) + "\n"


def load_program(name, framework):
    path = os.path.join(PROGRAMS, name + ".py")
    with open(path) as f:
        source = f.read()
    if framework == "norch":
        source = to_norch(source)
    module = types.ModuleType(f"program_{name}_{framework}")
    module.__file__ = path
    # importable by name, as a script's own module is, so that whole-object pickling finds its classes
    sys.modules[module.__name__] = module
    exec(compile(source, path, "exec"), module.__dict__)
    return module


def init_from_numpy(framework, model, seed):
    """Give every parameter of `model` (in named_parameters order) values from a NumPy stream:
    matrices and kernels uniform in +-1/sqrt(fan_in) as PyTorch's default, norm-layer weights
    near one, biases small. Buffers keep their (identical) defaults."""
    rng = np.random.default_rng(seed)
    state = {}
    for name, p in model.named_parameters():
        shape = tuple(p.shape)
        if len(shape) >= 2:
            bound = 1.0 / math.sqrt(int(np.prod(shape[1:])))
            values = rng.uniform(-bound, bound, shape)
        elif name.rsplit(".", 1)[-1] == "weight":
            values = 1.0 + rng.uniform(-0.1, 0.1, shape)
        else:
            values = rng.uniform(-0.1, 0.1, shape)
        state[name] = framework.from_numpy(values.astype(np.float32))
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and all(k not in state for k in missing)


def run_both(name, steps, seed=0, **kwargs):
    losses = {}
    for framework_name in ("torch", "norch"):
        framework = importlib.import_module(framework_name)
        program = load_program(name, framework_name)
        init = functools.partial(init_from_numpy, framework, seed=seed + 1)
        result = program.main(steps=steps, seed=seed, init=init, **kwargs)
        assert all(isinstance(v, float) and math.isfinite(v) for v in result), (framework_name, result)
        losses[framework_name] = np.array(result)
    return losses["torch"], losses["norch"]


def assert_tracks(t, n, first=5, first_rtol=1e-4, final_rtol=1e-2):
    """norch's losses follow torch's: step by step at first, then within a few percent at every
    later step."""
    assert t.shape == n.shape, (t.shape, n.shape)
    rel = np.abs(n - t) / np.maximum(np.abs(t), 1e-6)
    assert rel[:first].max() < first_rtol, (rel[:first], t[:first], n[:first])
    assert rel.max() < final_rtol, (rel.argmax(), t, n)


def assert_learns(losses, head=3, tail=3):
    assert losses[-tail:].mean() < 0.8 * losses[:head].mean(), losses


def test_import_rewrite_touches_only_imports():
    src = ("import torch\nimport torch.nn as nn\nfrom torch.utils.data import DataLoader\n"
           "x = torch.zeros(2)  # torch\n")
    assert to_norch(src) == ("import norch as torch\nimport norch.nn as nn\n"
                             "from norch.utils.data import DataLoader\nx = torch.zeros(2)  # torch\n")
    with pytest.raises(ValueError, match="does not handle"):
        to_norch("import torch.nn\n")


def test_cnn_classifier():
    t, n = run_both("cnn_classifier", steps=24, dropout=0.0)
    assert_tracks(t, n)
    assert_learns(t[:-1])
    assert_learns(n[:-1])


def test_cnn_classifier_with_dropout_learns():
    # Dropout masks come from each framework's own RNG, so here only progress is compared.
    t, n = run_both("cnn_classifier", steps=24, dropout=0.25)
    assert_learns(t[:-1])
    assert_learns(n[:-1])


def test_resnet_adamw():
    t, n = run_both("resnet_adamw", steps=24)
    assert_tracks(t, n)
    assert_learns(t[:-1])
    assert_learns(n[:-1])


def test_lstm_sequence_classifier_with_clipping():
    t, n = run_both("lstm_sequence", steps=30)
    assert_tracks(t, n)
    assert_learns(t)
    assert_learns(n)


def test_char_level_language_model():
    t, n = run_both("char_lm", steps=30)
    assert_tracks(t, n)
    assert_learns(t[:-1])
    assert_learns(n[:-1])


def test_vae():
    t, n = run_both("vae", steps=30)
    assert_tracks(t, n)
    assert_learns(t[:-1])
    assert_learns(n[:-1])


def test_gan():
    t, n = run_both("gan", steps=60)
    assert_tracks(t, n, first=10)
    # A GAN's losses need not fall; the generated points must move onto the ring.
    for run in (t, n):
        start, end = run[-2:]
        assert end < 0.6 * start, (start, end)


def test_lbfgs_curve_fit():
    t, n = run_both("lbfgs_curve_fit", steps=10)
    assert_tracks(t, n)
    assert t[-1] < 0.01 * t[0] and n[-1] < 0.01 * n[0], (t, n)


def test_regression_checkpoint_resume():
    t, n = run_both("regression_checkpoint", steps=6, resume_at=3)
    assert_tracks(t, n)
    assert_learns(t)
    assert_learns(n)
    # Saving and restoring model, optimizer and scheduler mid-run leaves norch's trajectory as it was.
    _, straight = run_both("regression_checkpoint", steps=6, resume_at=None)
    np.testing.assert_array_equal(n, straight)


def test_conv_autoencoder_custom_dataset():
    t, n = run_both("conv_autoencoder", steps=30)
    assert_tracks(t, n)
    assert_learns(t[:-1])
    assert_learns(n[:-1])


def test_tabular_mlp_early_stopping():
    t, n = run_both("tabular_early_stopping", steps=40, dropout=0.0)
    assert_tracks(t, n)
    epochs = int(t[-1])
    assert epochs == int(n[-1]) and epochs < 40          # the patience ran out in both
    train_t, train_n = t[:-2][0::2], n[:-2][0::2]
    assert train_t[-1] < 0.5 * train_t[0] and train_n[-1] < 0.5 * train_n[0]
    # the restored model is the best epoch's
    assert n[-2] == pytest.approx(min(n[:-2][1::2]), rel=1e-5)


def test_tiny_gpt_with_multihead_attention():
    t, n = run_both("tiny_gpt", steps=30)
    assert_tracks(t, n)
    assert_learns(t[:-1])
    assert_learns(n[:-1])


def test_quickstart():
    t, n = run_both("quickstart", steps=5)
    assert_tracks(t, n)
    assert_learns(t[:-1])
    assert_learns(n[:-1])
    assert n[-1] == t[-1] and n[-1] > 0.6      # the same test accuracy; chance is 0.2


def test_custom_autograd_function_and_manual_updates():
    t, n = run_both("custom_autograd_poly", steps=40)
    assert_tracks(t, n)
    for run in (t, n):
        stage1, stage2 = run[:8], run[8:]
        assert stage1[-1] < 0.7 * stage1[0] and stage2[-1] < 0.1 * stage2[0], run


def test_text_classification_with_embeddingbag():
    t, n = run_both("text_embeddingbag", steps=4)
    assert_tracks(t, n)
    assert_learns(t)
    assert_learns(n)


def test_super_resolution_pixel_shuffle():
    t, n = run_both("super_resolution", steps=30)
    assert_tracks(t, n)
    assert_learns(t[:-2])
    assert_learns(n[:-2])
    assert n[-1] == pytest.approx(t[-1], rel=1e-5)   # the bilinear nn.Upsample baseline


def test_triplet_embedding():
    t, n = run_both("triplet_embedding", steps=6)
    assert_tracks(t, n)
    assert_learns(t[:-2])
    assert_learns(n[:-2])
    assert n[-1] >= n[-2] and n[-1] == t[-1]       # ranking accuracy after >= before, same as torch's


def test_transformer_encoder_classifier():
    t, n = run_both("transformer_classifier", steps=30)
    assert_tracks(t, n)
    assert_learns(t[:-1])
    assert_learns(n[:-1])


def test_transformer_encoder_classifier_with_dropout_learns():
    t, n = run_both("transformer_classifier", steps=30, dropout=0.1)
    assert_learns(t[:-1])
    assert_learns(n[:-1])


def test_seq2seq_with_attention():
    t, n = run_both("seq2seq_attention", steps=40)
    assert_tracks(t, n)
    assert_learns(t[:-1])
    assert_learns(n[:-1])


def test_transfer_learning_frozen_backbone():
    t, n = run_both("transfer_learning", steps=4)
    assert_tracks(t, n)
    pre, fine = n[:8], n[8:-1]
    assert pre[-2] < 0.8 * pre[0] and fine[-2] < 0.8 * fine[0], n     # train losses of each stage fall
    assert n[-1] == t[-1] and n[-1] > 0.8                              # the best val accuracy


def test_pinn_second_derivatives_through_autograd_grad():
    t, n = run_both("pinn", steps=60)
    assert_tracks(t, n)
    for run in (t, n):
        assert run[-2] < 0.1 * run[0] and run[-1] < 0.5, run   # residual loss falls; u approaches sin(x)


def test_swa_averaged_model_with_update_bn():
    t, n = run_both("swa", steps=8)
    assert_tracks(t, n)
    assert_learns(t[:-2])
    assert_learns(n[:-2])


def test_gradient_accumulation_bucket_sampler():
    t, n = run_both("grad_accumulation", steps=3)
    assert_tracks(t, n)
    for run in (t, n):
        losses = run[:len(run) // 2].reshape(3, -1)                   # (epoch, optimizer step)
        assert losses[-1].mean() < 0.6 * losses[0].mean(), losses


def test_packed_sequence_classifier():
    t, n = run_both("packed_sequence_classifier", steps=30)
    assert_tracks(t[:-1], n[:-1])
    assert_learns(t[:-1])
    assert_learns(n[:-1])
    assert n[-1] == t[-1] and n[-1] > 0.75      # the same training accuracy; chance is about 0.5


def test_weight_norm_regression():
    t, n = run_both("weight_norm_regression", steps=40)
    assert_tracks(t[:-1], n[:-1])
    assert_learns(t[:-1])
    assert_learns(n[:-1])
    assert n[-1] < 1e-5 and t[-1] < 1e-5        # removing the normalizations keeps the predictions
