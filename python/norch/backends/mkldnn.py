"""norch.backends.mkldnn: norch does not link oneDNN."""
enabled = False


def is_available():
    return False
