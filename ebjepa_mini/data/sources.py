"""Where real data lives, and a clearly labelled offline fallback.

The data directory is ``$EBJEPA_DATA`` (default ``./data``). It holds NumPy archives
written by ``data_scripts/get_data.py`` (or the offline copies in CI):

* ``mnist.npz`` with ``x_train [60000, 28, 28] uint8``, ``y_train``, ``x_test``, ``y_test``;
* ``cifar10_train.npz`` (all 50k) and/or ``cifar10_train_10k.npz`` (1,000 per class),
  and ``cifar10_test.npz``, each with ``x [N, 32, 32, 3] uint8`` (RGB, HWC) and ``y``.

Without those files the loaders return a *fallback* built from scikit-learn's bundled
8x8 digits (1,797 images, upsampled), with ``is_fallback=True`` and a ``source``
string that says so and names the command that fetches the real data. A real data set's ``source``
names the data set and its files, not the folder (records quote it: they name no folder of the
machine that made them).
"""
from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["ImageData", "data_dir", "load_mnist", "load_cifar10", "array_md5", "FETCH_HINT"]

FETCH_HINT = "python data_scripts/get_data.py  (needs a network; writes to $EBJEPA_DATA, default ./data)"

# Array-content md5s (hashlib.md5(arr.tobytes())) of the canonical arrays, used by
# data_scripts/get_data.py --verify and by the tests.
KNOWN_MD5 = {
    ("mnist.npz", "x_train"): "6510e85a72c3e9475c492d559d3770d2",
    ("mnist.npz", "x_test"): "240610fa99e73bfa49df8e7fc24d3206",
    ("cifar10_test.npz", "y"): "c44956f095ec277e22e363b9b413ac99",
    ("cifar10_train_10k.npz", "y"): "f22d057cabfcc96ee507fae65acc9f4f",
}


@dataclass
class ImageData:
    """Images as uint8 arrays, HWC for colour, HW for greyscale."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    is_fallback: bool = False

    def __repr__(self) -> str:
        return (f"ImageData(train={self.x_train.shape}, test={self.x_test.shape}, "
                f"source={self.source!r}, is_fallback={self.is_fallback})")


def data_dir() -> Path:
    """The data directory: ``$EBJEPA_DATA`` or ``./data``."""
    return Path(os.environ.get("EBJEPA_DATA") or "data").expanduser()


def array_md5(arr: np.ndarray) -> str:
    """md5 of an array's bytes (the checksum convention of the data README)."""
    return hashlib.md5(np.ascontiguousarray(arr).tobytes()).hexdigest()


def _fallback_digits(size: int, channels: int, seed: int = 0):
    from sklearn.datasets import load_digits  # ships inside the scikit-learn wheel

    d = load_digits()
    x = d.images.astype(np.float32) / 16.0                      # [1797, 8, 8] in [0, 1]
    reps = -(-size // 8)
    x = np.kron(x, np.ones((reps, reps), np.float32))[:, :size, :size]
    x = (x * 255).round().astype(np.uint8)
    y = d.target.astype(np.int64)
    if channels == 3:                                           # tint each class differently
        rng = np.random.default_rng(seed)
        tint = rng.uniform(0.3, 1.0, size=(10, 3)).astype(np.float32)
        x = (x[..., None] * tint[y][:, None, None, :]).astype(np.uint8)
    perm = np.random.default_rng(seed).permutation(len(y))
    x, y = x[perm], y[perm]
    return x[:1500], y[:1500], x[1500:], y[1500:]


def _warn_fallback(name: str) -> None:
    warnings.warn(f"{name} not found in {data_dir().resolve()}: using the OFFLINE FALLBACK "
                  f"(scikit-learn 8x8 digits, upsampled). For the real data run: {FETCH_HINT}",
                  stacklevel=3)


def load_mnist(allow_fallback: bool = True) -> ImageData:
    """MNIST digits from ``<data_dir>/mnist.npz`` (uint8 ``[N, 28, 28]``).

    Args:
        allow_fallback: without the file, return the labelled fallback (``True``) or raise.

    Raises:
        FileNotFoundError: when the file is missing and ``allow_fallback`` is False.
    """
    path = data_dir() / "mnist.npz"
    if path.exists():
        with np.load(path) as f:
            return ImageData(f["x_train"], f["y_train"].astype(np.int64), f["x_test"],
                             f["y_test"].astype(np.int64), source=f"MNIST ({path.name})")
    if not allow_fallback:
        raise FileNotFoundError(f"{path} not found; run {FETCH_HINT}")
    _warn_fallback("mnist.npz")
    return ImageData(*_fallback_digits(28, 1), source="FALLBACK: sklearn 8x8 digits upsampled to 28x28 (not MNIST)",
                     is_fallback=True)


def load_cifar10(prefer_full: bool = True, allow_fallback: bool = True) -> ImageData:
    """CIFAR-10 (uint8 ``[N, 32, 32, 3]``): ``cifar10_train.npz`` (50k) if present and
    ``prefer_full``, else ``cifar10_train_10k.npz``; test from ``cifar10_test.npz``.

    Raises:
        FileNotFoundError: when no file is found and ``allow_fallback`` is False.
    """
    root = data_dir()
    names = ["cifar10_train.npz", "cifar10_train_10k.npz"] if prefer_full else ["cifar10_train_10k.npz",
                                                                                 "cifar10_train.npz"]
    train = next((root / n for n in names if (root / n).exists()), None)
    test = root / "cifar10_test.npz"
    if train is not None and test.exists():
        with np.load(train) as a, np.load(test) as b:
            return ImageData(a["x"], a["y"].astype(np.int64), b["x"], b["y"].astype(np.int64),
                             source=f"CIFAR-10 ({train.name} + {test.name})")
    if not allow_fallback:
        raise FileNotFoundError(f"CIFAR-10 files not found in {root}; run {FETCH_HINT}")
    _warn_fallback("CIFAR-10")
    return ImageData(*_fallback_digits(32, 3), source="FALLBACK: tinted sklearn digits at 32x32 (not CIFAR-10)",
                     is_fallback=True)
