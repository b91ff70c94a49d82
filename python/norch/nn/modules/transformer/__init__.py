"""nn layers: attention."""
from .attention import MultiheadAttention  # noqa: F401
