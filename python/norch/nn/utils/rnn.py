"""nn.utils.rnn: padded and packed batches of variable-length sequences.

A PackedSequence stores the steps of a batch sorted by decreasing length, time-major:
`data` holds step 0 of every sequence, then step 1 of those still running, and so on;
`batch_sizes[t]` says how many sequences are running at step t. The recurrent modules
(nn.RNN / LSTM / GRU) accept one and stop each sequence's recurrence at its own length.
Packing and padding are built from differentiable ops (narrow, cat, index_select), so
gradients flow through them to the padded input.
"""
from collections import namedtuple

from ... import _C

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
           "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence"]

_PackedSequenceBase = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_PackedSequenceBase):
    """Holds the data and list of batch_sizes of a packed sequence (see the module docstring).
    Build one with pack_padded_sequence or pack_sequence, not by hand."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is not None:
            # PyTorch's internal form: PackedSequence(data, batch_sizes, ...)
            if batch_sizes.device.type != "cpu":
                raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence should never "
                                 "be created manually. They should be instantiated by functions like "
                                 "pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                                 "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
            return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)
        # PackedSequence((data, batch_sizes)), the tuple form
        if not (isinstance(data, (list, tuple)) and len(data) == 2):
            raise TypeError("PackedSequence expects (data, batch_sizes) or data, batch_sizes, ...")
        return super().__new__(cls, data[0], data[1], sorted_indices, unsorted_indices)

    def pin_memory(self):
        return self

    def to(self, *args, **kwargs):
        """PackedSequence with its data moved or cast like Tensor.to; batch_sizes stay on the CPU,
        the index tensors follow the data's device."""
        data = self.data.to(*args, **kwargs)
        if data.dtype == self.data.dtype and data.device == self.data.device:
            return self
        device = data.device
        sorted_indices = None if self.sorted_indices is None else self.sorted_indices.to(device)
        unsorted_indices = None if self.unsorted_indices is None else self.unsorted_indices.to(device)
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cuda(self, *args, **kwargs):
        return self.to("cuda" if not args else f"cuda:{args[0]}", **kwargs)

    def cpu(self, *args, **kwargs):
        return self.to("cpu")

    def double(self):
        return self.to(dtype=_C.float64)

    def float(self):
        return self.to(dtype=_C.float32)

    def long(self):
        return self.to(dtype=_C.int64)

    def int(self):
        return self.to(dtype=_C.int32)

    def byte(self):
        return self.to(dtype=_C.uint8)

    def bool(self):
        return self.to(dtype=_C.bool)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def invert_permutation(permutation):
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    output = _C.empty_like(permutation)
    output.scatter_(0, permutation, _C.arange(0, permutation.numel(), device=permutation.device))
    return output


def _lengths_list(lengths):
    if isinstance(lengths, _C.Tensor):
        if lengths.dim() != 1:
            raise RuntimeError(f"'lengths' argument should be a 1D tensor, but got {lengths.dim()}D tensor")
        if lengths.device.type != "cpu":
            raise RuntimeError("'lengths' argument should be a 1D CPU int64 tensor, but got 1D "
                               f"{lengths.device.type} {str(lengths.dtype).split('.')[-1]} tensor")
        return [int(v) for v in lengths.tolist()]
    return [int(v) for v in lengths]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch (T, B, *) (or (B, T, *) with batch_first) whose b-th sequence has
    lengths[b] valid steps. With enforce_sorted, lengths must be decreasing; otherwise the batch
    is sorted here and the permutation is kept to restore the order on unpacking."""
    lengths = _lengths_list(lengths)
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                               "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence "
                               "to sidestep this requirement if you do not need ONNX exportability.")
        sorted_indices = None
        order = list(range(len(lengths)))
    else:
        # a stable sort by decreasing length, as PyTorch's
        order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
        sorted_indices = _C.tensor(order, dtype=_C.int64, device=input.device)
    if batch_first:
        input = input.transpose(0, 1)
    batch = input.shape[1] if input.dim() >= 2 else 0
    if len(lengths) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                           f"(batch_size={batch})")
    sorted_lengths = [lengths[i] for i in order]
    if sorted_lengths and sorted_lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if sorted_lengths and sorted_lengths[0] > input.shape[0]:
        raise RuntimeError(f"Expected sequence length to be larger than or equal to the length of the longest "
                           f"sequence ({sorted_lengths[0]}), but got {input.shape[0]}")
    if sorted_indices is not None:
        input = input.index_select(1, sorted_indices)
    max_len = sorted_lengths[0] if sorted_lengths else 0
    batch_sizes = [sum(1 for n in sorted_lengths if n > t) for t in range(max_len)]
    steps = [input.select(0, t).narrow(0, 0, bs) for t, bs in enumerate(batch_sizes)]
    data = _C.cat(steps, 0)
    return PackedSequence(data, _C.tensor(batch_sizes, dtype=_C.int64), sorted_indices,
                          invert_permutation(sorted_indices))


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of pack_padded_sequence: (padded (T, B, *) or (B, T, *), lengths), both in the
    batch's original order. total_length pads the time axis to that length."""
    data, batch_sizes = sequence.data, [int(b) for b in sequence.batch_sizes.tolist()]
    max_len = len(batch_sizes)
    if total_length is not None:
        if total_length < max_len:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {max_len}")
    else:
        total_length = max_len
    batch = batch_sizes[0] if batch_sizes else 0
    feature = list(data.shape[1:])
    rows, offset = [], 0
    for bs in batch_sizes:
        step = data.narrow(0, offset, bs)
        offset += bs
        if bs < batch:
            fill = _C.full([batch - bs] + feature, padding_value, dtype=data.dtype, device=data.device)
            step = _C.cat([step, fill], 0)
        rows.append(step)
    rows += [_C.full([batch] + feature, padding_value, dtype=data.dtype, device=data.device)] * (total_length - max_len)
    padded = _C.stack(rows, 0)
    lengths = [sum(1 for bs in batch_sizes if bs > b) for b in range(batch)]
    lengths = _C.tensor(lengths, dtype=_C.int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(1, sequence.unsorted_indices)
        lengths = lengths.index_select(0, sequence.unsorted_indices.to("cpu"))
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into (max L, B, *), or (B, max L, *) with batch_first,
    filling with padding_value after (padding_side="right") or before ("left") each sequence.
    Differentiable in every sequence; the result has the first sequence's dtype and device."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    first = sequences[0]
    if first.dim() == 0:
        raise RuntimeError("pad_sequence: expected sequences of at least one dimension, got a 0-d tensor")
    max_len = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        s = s.to(first.dtype)
        fill = _C.full([max_len - s.shape[0]] + list(s.shape[1:]), padding_value, dtype=first.dtype,
                       device=s.device)
        padded.append(_C.cat([s, fill] if padding_side == "right" else [fill, s], 0))
    return _C.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The inverse of pad_sequence (right padding): the list of the first lengths[i] steps of
    each batch entry."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[:int(length)] for seq, length in zip(padded_sequences, lengths)]


def pack_sequence(sequences, enforce_sorted=True):
    """Packs a list of tensors (L_i, *); with enforce_sorted their lengths must be decreasing."""
    lengths = [v.size(0) for v in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of tensors (L_i, *) a PackedSequence holds, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
