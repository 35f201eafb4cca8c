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

__all__ = ["Preset", "EnergySettings", "CollapseSettings", "ImageSettings", "PRESET_NAMES", "get_preset"]

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
class ImageSettings:
    """Chapter 3 (VICReg vs SIGReg on CIFAR-10) and ``python -m ebjepa_mini.bench image``.

    The small presets follow ``shared/spec/cpu_ssl_calibration.md`` (AdamW 2e-3, warm-up + cosine,
    the five-layer ConvNet "E1", batch 256, channels-last, float64 LBFGS probe); ``gpu``/``paper``
    use the CIFAR ResNet-18 with LARS (spec §5.1), warm-up + cosine stepped per step.
    """

    encoder: str = "convnet"               # "convnet" (E1-style) or "resnet18"
    widths: tuple[int, ...] = (32, 64, 64, 128, 256)   # ConvNet channels (strides 1, 2, 1, 2, 2)
    n_train: int = 10_000                  # SSL and probe training images (capped by the data)
    n_test: int = 10_000                   # probe test images
    batch_size: int = 256
    steps: int = 300                       # steps of each healthy run (vicreg, sigreg)
    sweep_steps: int = 150                 # steps of each sensitivity run (sigreg_lambda_0.1, vicreg_std100_cov100)
    optimizer: str = "adamw"               # "adamw" or "lars"
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_frac: float = 0.1
    proj_hidden: int | None = 1024         # None: no projector
    vicreg_dim: int = 1024                 # projector output for VICReg (EB-JEPA 2048x1024 best)
    sigreg_dim: int = 128                  # projector output for SIGReg (EB-JEPA 2048x128 best)
    vicreg_std: float = 1.0                # alpha
    vicreg_cov: float = 25.0               # beta (paper: 100; 25 is steadier at short budgets)
    sigreg_lambda: float = 10.0
    num_slices: int = 256
    hue: float = 0.0                       # hue jitter (EB-JEPA: 0.1); 0 leaves it out
    probe_wds: tuple[float, ...] = (1e-5, 1e-4, 1e-3, 1e-2)
    probe_iters: int = 300
    amp: bool = False                      # bf16 autocast on CUDA
    channels_last: bool = True


@dataclass(frozen=True)
class Preset:
    """A named runtime budget; ``preset.collapse.steps`` etc. size each chapter."""

    name: str
    description: str
    energy: EnergySettings = field(default_factory=EnergySettings)
    collapse: CollapseSettings = field(default_factory=CollapseSettings)
    image: ImageSettings = field(default_factory=ImageSettings)

    def __repr__(self) -> str:  # short, for the line each chapter prints
        return f"Preset({self.name!r}: {self.description})"


_PRESETS = {
    "ci": Preset(
        "ci",
        "CI smoke size: 2 CPU cores, <= 90 s per chapter",
        EnergySettings(n_points=120, grid=41, n_latent=36, train_steps=150),
        CollapseSettings(n_train=4_000, batch_size=128, steps=200, n_eval=512),
        image=ImageSettings(widths=(16, 32, 32, 64, 128), n_train=2_000, n_test=2_000, batch_size=128,
                            steps=80, sweep_steps=50, proj_hidden=512, vicreg_dim=512, sigreg_dim=64,
                            lr=3e-3, num_slices=128, probe_iters=150, probe_wds=(1e-4, 1e-3, 1e-2)),
    ),
    "cpu": Preset(
        "cpu",
        "laptop CPU, <= 10 min per chapter",
        EnergySettings(),
        CollapseSettings(n_train=20_000, batch_size=256, steps=600, n_eval=2048, probe=True),
        image=ImageSettings(),
    ),
    "gpu": Preset(
        "gpu",
        "one GPU (Colab T4 or local), <= 20 min per chapter",
        EnergySettings(n_points=400, grid=101, n_latent=96, train_steps=600),
        CollapseSettings(n_train=60_000, batch_size=512, steps=2_000, embed_dim=64, width=64,
                         n_eval=4096, probe=True),
        image=ImageSettings(encoder="resnet18", n_train=50_000, steps=2_000, sweep_steps=1_000,
                            optimizer="lars", lr=0.3, warmup_frac=10 / 300, proj_hidden=2048,
                            vicreg_dim=1024, sigreg_dim=128, vicreg_cov=100.0, hue=0.1, amp=True),
    ),
    "paper": Preset(
        "paper",
        "the paper's full configuration on one large GPU (hours)",
        EnergySettings(n_points=400, grid=101, n_latent=96, train_steps=600),
        CollapseSettings(n_train=60_000, batch_size=512, steps=5_000, embed_dim=64, width=64,
                         n_eval=4096, probe=True),
        # 300 epochs of 195 steps (50k images, batch 256, last partial batch dropped).
        image=ImageSettings(encoder="resnet18", n_train=50_000, steps=58_500, sweep_steps=58_500,
                            optimizer="lars", lr=0.3, warmup_frac=10 / 300, proj_hidden=2048,
                            vicreg_dim=1024, sigreg_dim=128, vicreg_cov=100.0, hue=0.1, amp=True),
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
