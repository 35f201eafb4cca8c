"""ebjepa_mini: the teaching package behind the EB-JEPA Mini Book.

Layers, lowest first; a module imports only from its own layer and those below (``tests/test_layers.py``):

0. ``data/``: datasets and their generators (Two Rooms' world in ``two_rooms``, its random walks in
   ``two_rooms_walks``);
1. foundations: this root (seeds, :func:`get_device`, :func:`experiment_setup`, :func:`chapter_setup`),
   ``presets``, ``records``, ``regularizers``, ``energy/`` (toy world, free energies, training, toy JEPA),
   ``nets`` (every network), ``metrics``, ``optim``, ``probes``, ``train``;
2. models and their experiments: ``jepa``, ``collapse``, ``image``, ``rollout`` (the video predictor's
   K-step rollout), ``video``, ``world``;
3. ``planning/``;
4. presentation: ``viz/``, ``widgets``, ``checks/`` (one module per subject, as ``viz/``);
5. the command line: ``bench``.
"""
from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

from .presets import PRESET_NAMES, get_preset

__version__ = "0.1.0"
__all__ = ["seed_everything", "get_device", "get_preset", "PRESET_NAMES", "chapter_setup", "experiment_setup",
           "__version__"]


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


def get_device(prefer: str | torch.device | None = None) -> torch.device:
    """Pick the device: ``prefer`` if given, else ``EBJEPA_DEVICE``, else CUDA, then MPS, then CPU.

    The one place a device is chosen: :func:`chapter_setup` and every experiment's ``device``
    argument (``None`` there means "pick one here") go through it.

    Raises:
        TypeError: if ``prefer`` is not a string, a ``torch.device`` or ``None``.
        ValueError: if the requested device is not one of cpu/cuda/mps or is not available.
    """
    if isinstance(prefer, torch.device):
        prefer = str(prefer)
    if prefer is not None and not isinstance(prefer, str):
        raise TypeError(f"device must be a str, a torch.device or None, got {type(prefer).__name__}")
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


def experiment_setup(preset: str | None, section: str, settings=None, seed: int = 0, device=None):
    """What every experiment (collapse, image, video) resolves first, before it loads any data.

    Args:
        preset: a preset name or ``None`` (:func:`get_preset`).
        section: the preset's section the experiment reads (``"collapse"``, ``"image"``, ``"video"``).
        settings: settings replacing the preset's section, of the section's class; ``None`` keeps the preset's.
        seed: an int >= 0.
        device: a device or ``None`` (:func:`get_device`).

    Returns:
        ``(preset, settings, device)``.

    Raises:
        TypeError: if ``settings`` is not of the section's class.
        ValueError: for a bad seed, preset or device.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, got {seed!r}")
    p = get_preset(preset)
    kind = type(getattr(p, section))
    cfg = getattr(p, section) if settings is None else settings
    if not isinstance(cfg, kind):
        raise TypeError(f"settings must be a {kind.__name__}, got {type(cfg).__name__}")
    return p, cfg, get_device(device)


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
