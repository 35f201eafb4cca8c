"""Runtime budgets: one switch (``EBJEPA_PRESET``) sizes every chapter.

Four presets share the same code and differ only in sizes:

=========  =====================================  ======================
name       where                                  budget per chapter
=========  =====================================  ======================
``ci``     CI, 2 CPU cores, no network            <= 90 s
``cpu``    a laptop CPU                           <= 10 min
``gpu``    Colab T4 / one local GPU               <= 20 min
``paper``  one large GPU                          the paper's settings
=========  =====================================  ======================

``get_preset()`` reads ``EBJEPA_PRESET``; when it is unset the device decides
(CUDA -> ``gpu``, otherwise ``cpu``). Chapters read every size (steps, widths,
dataset sizes) from the preset, never from numbers typed into cells.
Later chapters add their own section dataclass here.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import torch

__all__ = ["Preset", "EnergySettings", "CollapseSettings", "PRESET_NAMES", "get_preset"]

PRESET_NAMES = ("ci", "cpu", "gpu", "paper")


@dataclass(frozen=True)
class EnergySettings:
    """Chapter 1 (toy energy-based models)."""

    n_points: int = 200          # samples on the toy manifold
    grid: int = 61               # resolution of energy heat-maps (grid x grid)
    n_latent: int = 48           # latent values swept for the free energy (step 2*pi/n_latent)
    train_steps: int = 300       # steps of the small regularised-vs-contrastive demo
    gd_steps: int = 40           # gradient-descent steps of the inference figures (paths of y and z)


@dataclass(frozen=True)
class CollapseSettings:
    """Chapter 2 (collapse on real images) and :class:`ebjepa_mini.widgets.CollapseLab`."""

    dataset: str = "mnist"       # "mnist" (28x28 digits) or "cifar10"
    n_train: int = 10_000        # images the lab samples its batches from
    batch_size: int = 128
    steps: int = 200             # steps per run shown in the chapter
    embed_dim: int = 32          # D, the dimension the regularisers see
    width: int = 32              # encoder channels
    lr: float = 3e-3
    weight_decay: float = 1e-4
    plot_every: int = 10         # live widget refresh period (steps)
    n_eval: int = 1024           # images used for metrics (rank, std, spectrum)
    probe: bool = False          # also fit a linear probe after each run (slower)


@dataclass(frozen=True)
class Preset:
    """A named runtime budget; ``preset.collapse.steps`` etc. size each chapter."""

    name: str
    description: str
    energy: EnergySettings = field(default_factory=EnergySettings)
    collapse: CollapseSettings = field(default_factory=CollapseSettings)

    def __repr__(self) -> str:  # short, for the line each chapter prints
        return f"Preset({self.name!r}: {self.description})"


_PRESETS = {
    "ci": Preset(
        "ci",
        "CI smoke size: 2 CPU cores, <= 90 s per chapter",
        EnergySettings(n_points=120, grid=41, n_latent=36, train_steps=150),
        CollapseSettings(n_train=4_000, batch_size=128, steps=200, n_eval=512),
    ),
    "cpu": Preset(
        "cpu",
        "laptop CPU, <= 10 min per chapter",
        EnergySettings(),
        CollapseSettings(n_train=20_000, batch_size=256, steps=600, n_eval=2048, probe=True),
    ),
    "gpu": Preset(
        "gpu",
        "one GPU (Colab T4 or local), <= 20 min per chapter",
        EnergySettings(n_points=400, grid=101, n_latent=96, train_steps=600),
        CollapseSettings(n_train=60_000, batch_size=512, steps=2_000, embed_dim=64, width=64,
                         n_eval=4096, probe=True),
    ),
    "paper": Preset(
        "paper",
        "the paper's full configuration on one large GPU (hours)",
        EnergySettings(n_points=400, grid=101, n_latent=96, train_steps=600),
        CollapseSettings(n_train=60_000, batch_size=512, steps=5_000, embed_dim=64, width=64,
                         n_eval=4096, probe=True),
    ),
}


def get_preset(name: str | None = None, **overrides) -> Preset:
    """Resolve a preset by name, ``EBJEPA_PRESET``, or the device.

    Args:
        name: one of ``"ci"``, ``"cpu"``, ``"gpu"``, ``"paper"``; ``None`` reads
            ``EBJEPA_PRESET`` and falls back to ``"gpu"`` with CUDA, else ``"cpu"``.
        **overrides: replace whole sections, e.g. ``collapse=CollapseSettings(steps=50)``.

    Raises:
        ValueError: for an unknown name, listing the valid ones.
    """
    source = "argument name"
    if name is None:
        name = os.environ.get("EBJEPA_PRESET") or None
        source = "environment variable EBJEPA_PRESET"
    if name is None:
        name = "gpu" if torch.cuda.is_available() else "cpu"
    if not isinstance(name, str):
        raise TypeError(f"preset name must be a str, one of {PRESET_NAMES}; got {type(name).__name__}")
    key = name.strip().lower()
    if key not in _PRESETS:
        raise ValueError(f"unknown preset {name!r} (from {source}); valid presets are: {', '.join(PRESET_NAMES)}")
    preset = _PRESETS[key]
    return replace(preset, **overrides) if overrides else preset
