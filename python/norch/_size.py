"""norch.Size: the tuple subclass returned by Tensor.shape and Tensor.size()."""


class Size(tuple):
    def __repr__(self):
        return f"norch.Size([{', '.join(str(s) for s in self)}])"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n
