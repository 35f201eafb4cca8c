"""Data: where real data lives (``sources``), image views (``views``), and later the
generated worlds of chapters 4-6."""
from .sources import ImageData, data_dir, load_cifar10, load_mnist

__all__ = ["ImageData", "data_dir", "load_mnist", "load_cifar10"]
