"""nn.utils.rnn: pad_sequence and unpad_sequence, the batching helpers that padded-sequence models (masked
transformers, RNNs over fixed-length batches) use in their collate functions.

PackedSequence and pack_padded_sequence / pad_packed_sequence are not here: they need the
recurrent modules to run over packed batches, which norch's RNNs do not do yet
(docs/compat.md lists them as missing).
"""
from ... import _C

__all__ = ["pad_sequence", "unpad_sequence"]


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
