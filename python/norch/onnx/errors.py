"""norch.onnx.errors: the exceptions of an export, named as in torch.onnx.errors."""

__all__ = ["OnnxExporterError", "UnsupportedOperatorError"]


class OnnxExporterError(RuntimeError):
    """An export failed; nothing was written."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op (or a custom autograd.Function) that ONNX cannot express at the requested opset."""
