"""ebjepa_mini: the teaching package behind the EB-JEPA Mini Book.

Modules, from foundations to presentation (imports only point left):

``regularizers`` · ``energy`` · ``nets`` · ``data`` · ``metrics``  <-  ``jepa`` · ``train``  <-  ``viz`` · ``widgets`` · ``checks``
"""
from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

from .presets import PRESET_NAMES, get_preset

__version__ = "0.1.0"
__all__ = ["seed_everything", "get_device", "get_preset", "PRESET_NAMES", "chapter_setup", "__version__"]


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA); return a seeded torch.Generator.

    Same seed and preset on a CPU gives the same numbers.
    """
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    return torch.Generator().manual_seed(seed)


def get_device(prefer: str | None = None) -> torch.device:
    """Pick the device: ``EBJEPA_DEVICE`` or ``prefer`` if given, else CUDA, then MPS, then CPU.

    Raises:
        ValueError: if the requested device is not one of cpu/cuda/mps or is not available.
    """
    prefer = prefer or os.environ.get("EBJEPA_DEVICE") or None
    if prefer is not None:
        kind = prefer.split(":")[0]
        if kind not in ("cpu", "cuda", "mps"):
            raise ValueError(f"device must be one of 'cpu', 'cuda', 'mps' (optionally 'cuda:N'); got {prefer!r}")
        if kind == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"device {prefer!r} requested but CUDA is not available")
        if kind == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise ValueError(f"device {prefer!r} requested but MPS is not available")
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def chapter_setup(seed: int = 0, preset: str | None = None):
    """First cell of every chapter: seed, pick device and preset, print one status line.

    Returns:
        (preset, device) -- the :class:`~ebjepa_mini.presets.Preset` and ``torch.device``.
    """
    p = get_preset(preset)
    device = get_device()
    seed_everything(seed)
    if device.type == "cpu" and os.environ.get("EBJEPA_THREADS"):
        torch.set_num_threads(int(os.environ["EBJEPA_THREADS"]))
    print(f"ebjepa_mini {__version__} | preset={p.name} ({p.description}) | device={device} | "
          f"torch {torch.__version__} | python {platform.python_version()} | threads={torch.get_num_threads()}")
    return p, device
