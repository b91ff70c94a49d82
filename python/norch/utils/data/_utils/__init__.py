"""Internals of norch.utils.data: collation, worker processes, RNG helpers."""
from . import collate, random  # noqa: F401
