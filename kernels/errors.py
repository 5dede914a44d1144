"""Typed errors of the kernels."""


class KernelError(ValueError):
    """Base of kernel errors."""


class EncodingError(KernelError):
    """Bytes that are not a valid encoding of a field element or a curve point."""
