"""Dataset loaders with checksums and download."""

from petridish.data.mnist import (
    ChecksumError,
    Mnist,
    MnistUnavailableError,
    load_mnist,
    paper_split,
)

__all__ = ["ChecksumError", "Mnist", "MnistUnavailableError", "load_mnist", "paper_split"]
