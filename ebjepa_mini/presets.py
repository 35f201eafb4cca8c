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

from .regularizers import WorldWeights

__all__ = ["Preset", "EnergySettings", "CollapseSettings", "ImageSettings", "VideoSettings", "WorldSettings",
           "PlanSettings", "REFERENCE_PLANNER", "PAPER_PLANNER", "PRESET_NAMES", "get_preset", "parse_overrides"]

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

    The small presets use settings calibrated for short CPU runs (AdamW 2e-3, warm-up + cosine,
    the five-layer ConvNet "E1", batch 256, channels-last, float64 LBFGS probe); ``gpu``/``paper``
    use the CIFAR ResNet-18 with LARS (paper Table 5), warm-up + cosine stepped per step.
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
    variance: float = 1.0                  # alpha (VICReg)
    covariance: float = 25.0               # beta (paper: 100; 25 is steadier at short budgets)
    sigreg: float = 10.0                   # lambda (SIGReg)
    num_slices: int = 256
    hue: float = 0.0                       # hue jitter (EB-JEPA: 0.1); 0 leaves it out
    probe_wds: tuple[float, ...] = (1e-5, 1e-4, 1e-3, 1e-2)
    probe_iters: int = 300
    amp: bool = False                      # bf16 autocast on CUDA
    channels_last: bool = True


@dataclass(frozen=True)
class VideoSettings:
    """Chapter 4 (video JEPA on Moving MNIST) and ``python -m ebjepa_mini.bench video``.

    Defaults are the paper's model (ResNet-5 width 32, ResUNet width 32, 16-d latent, 16-64-64
    projector, Adam 1e-3, batch 64, std 10, cov 100, T = 10) on a 64x64 canvas; the small presets
    shrink the canvas (32x32 with 14-px digits, same digit-to-canvas ratio), the widths and the
    number of steps, and subsample the positions the losses see (``loss_positions``).
    """

    canvas: int = 64             # canvas side L (digits scaled by L / 64 from 28 px)
    clip_len: int = 10           # frames per clip T (horizons AP_0 .. AP_{T-4})
    n_train: int = 18_000        # training clips (20-frame sequences cut in two)
    n_val: int = 2_000           # validation clips
    batch_size: int = 64
    steps: int = 14_000          # JEPA optimiser steps per model (50 epochs of 281 steps)
    head_steps: int = 0          # extra head-only steps on the frozen encoder after training
    rollout_steps: tuple[int, ...] = (1, 4)   # the K values compared (chapter and bench)
    enc_width: int = 32          # ResNet-5 width h (stem h, blocks h, 2h -> latent)
    pred_width: int = 32         # ResUNet width h (h, 2h, 4h, 8h)
    latent_dim: int = 16         # D, channels of the representation
    proj_hidden: int = 64        # projector 16 -> 64 -> 64
    proj_dim: int = 64
    variance: float = 10.0       # alpha (paper video best: std 10, cov 100)
    covariance: float = 100.0    # beta
    loss_positions: int | None = None   # random positions per step for VC + prediction loss (None: all B*T*H*W)
    lr: float = 1e-3             # Adam, encoder + predictor + projector
    head_lr: float = 1e-3        # detection head
    decoder_lr: float = 1e-4     # pixel decoder
    eval_batch: int = 64         # AP is computed per validation batch, then averaged
    channels_last: bool = True


@dataclass(frozen=True)
class WorldSettings:
    """Chapter 5 (action-conditioned world model on Two Rooms) and ``python -m ebjepa_mini.bench world``.

    EB-JEPA (paper Table 6 and the reference code): IMPALA (16, 32, 32) -> 512-d latent, GRU predictor, clips of
    17 frames, K = 8, batch 384, 3,120 AdamW steps, α 16 / β 8 / δ 12 / ω 1. The small presets keep
    the architecture and the loss and shrink widths, the latent, the batch and the step count.
    """

    n_traj: int = 20_000         # random walks in the offline dataset
    walk_len: int = 91           # frames per walk (EB-JEPA: 90 actions)
    clip_len: int = 17           # T frames per training clip, a random window of a walk
    fixed_wall: bool = False     # train in one layout (two_rooms.FIXED_LAYOUT) instead of random ones
    cross_wall_rate: float = 0.35   # share of walks built to pass the door (EB-JEPA's generator: 0.35)
    rollout_steps: int = 8       # K predictor calls in the prediction loss
    batch_size: int = 64
    steps: int = 1_000           # optimiser steps
    stacks: tuple[int, ...] = (16, 32, 32)   # IMPALA channels per stack
    blocks: int = 2              # residual blocks per stack
    pool: int = 1                # average-pool the 65x65 input by this factor first (1 = paper)
    latent_dim: int = 512        # D
    predictor: str = "gru"       # g_φ: "gru" (paper: a GRU cell whose hidden state is z) or "mlp" (residual MLP on [z, a])
    pred_hidden: int = 256       # width of the "mlp" predictor's two hidden layers
    layout: str = "none"         # a layout code carried in the latent beside the moving part, modulating the "mlp"
                                 # predictor: "none" (the paper's single latent), "learned" (a small IMPALA net on the
                                 # wall channel) or "walls" (wall pixels per row and column, standardised; nothing learned)
    layout_dim: int = 16         # size of the "learned" layout code
    layout_pool: int = 4         # the "learned" code's encoder average-pools the 65x65 wall channel by this factor
    idm_hidden: int = 256
    probe_hidden: int = 512
    lr: float = 1e-3
    weight_decay: float = 1e-5
    warmup_frac: float = 0.1
    lr_floor: float = 1e-5       # absolute LR at the end of the cosine
    grad_clip: float = 2.0
    weights: WorldWeights = field(default_factory=WorldWeights)   # α, β, δ, ω of eq. 13


@dataclass(frozen=True)
class PlanSettings:
    """Chapter 6 (MPPI / CEM planning) and the planning half of ``bench world``.

    EB-JEPA MPPI (paper Table 7): H 90, N 200, J 20, Q 20, σ 2, m 1 action per replan, M 200 steps.
    :data:`REFERENCE_PLANNER` is the reference code's way of running it (a sampled elite executed,
    no warm start, no step clipping, almost uniform elite weights); the presets' own planners
    differ where the book says why (chapter 6).
    """

    episodes: int = 100          # evaluation episodes (>= 100 for any number the book reports)
    max_steps: int = 200         # M, environment steps per episode
    replan_every: int = 1        # m, actions executed per plan
    horizon: int = 90            # H (shrinks to the steps left)
    num_samples: int = 200       # N
    num_iters: int = 20          # J
    num_elites: int = 20         # Q
    noise_std: float = 2.0       # σ, initial sampling std
    temperature: float = 0.5     # τ of the MPPI weights exp(-(S_i - S_min) / τ)
    max_norm: float | None = 3.46   # planned steps are clipped to this length: 2.45·√2, the diagonal of the
                                 # env's declared action box [-2.45, 2.45]² (None: no clipping, as the reference)
    warm_start: bool = True      # start each plan from the previous one, shifted
    update_std: bool = True      # refit σ to the weighted elites each iteration (paper Alg. 1: False, σ fixed)
    min_std: float = 0.3         # floor of the refitted σ (0.001 before 2026-12-07: a small τ collapsed σ after one iteration)
    execute: str = "mean"        # "mean": execute the final mean (paper Alg. 1); "elite": one elite of the
                                 # last iteration drawn with its weight (the reference code)
    planner: str = "mppi"        # the optimiser: "mppi" (paper Alg. 1) or "cem" (the paper's comparison, Table 4)
    cost: str = "cumulative"     # the planning energy: "cumulative" (paper eq. 14, every step) or "last" (final step)

    def __post_init__(self):
        for name in ("episodes", "max_steps", "replan_every", "horizon", "num_samples", "num_iters", "num_elites"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"PlanSettings.{name} must be an int >= 1, got {v!r}")
        if self.num_elites > self.num_samples:
            raise ValueError(f"PlanSettings.num_elites must be <= num_samples ({self.num_samples}), got {self.num_elites}")
        for name in ("noise_std", "temperature"):
            if not (isinstance(getattr(self, name), (int, float)) and getattr(self, name) > 0):
                raise ValueError(f"PlanSettings.{name} must be a number > 0, got {getattr(self, name)!r}")
        if not (isinstance(self.min_std, (int, float)) and 0 <= self.min_std <= self.noise_std):
            raise ValueError(f"PlanSettings.min_std must be a number in [0, noise_std = {self.noise_std}], got {self.min_std!r}")
        if self.max_norm is not None and not self.max_norm > 0:
            raise ValueError(f"PlanSettings.max_norm must be None or > 0, got {self.max_norm!r}")
        for name, allowed in (("execute", EXECUTE), ("planner", PLANNERS), ("cost", COSTS)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"PlanSettings.{name} must be one of {allowed}, got {getattr(self, name)!r}")


EXECUTE = ("mean", "elite")
PLANNERS = ("mppi", "cem")       # the planners (chapter 6); ebjepa_mini.planning implements them
COSTS = ("cumulative", "last")   # the planning energies (paper eq. 14 and its last-step variant)

#: the reference code's MPPI (paper Table 7 sizes): its weights exp(-0.005·(S_i - S_min)) are this
#: book's τ = 200; a fresh plan from zero mean at every step; no step clipping; a sampled elite executed
REFERENCE_PLANNER = PlanSettings(temperature=200.0, max_norm=None, warm_start=False, execute="elite", min_std=0.0)

#: paper Algorithm 1 as written (Table 7 sizes): σ = 2 fixed, weights exp(-(S_i - S_min)/τ) with τ = 0.005
#: dividing the cost gap, the final mean executed, one action per plan, a fresh plan from zero mean, no step cap
PAPER_PLANNER = PlanSettings(noise_std=2.0, temperature=0.005, update_std=False, min_std=0.0, replan_every=1,
                             warm_start=False, max_norm=None, execute="mean")


@dataclass(frozen=True)
class Preset:
    """A named runtime budget; ``preset.collapse.steps`` etc. size each chapter."""

    name: str
    description: str
    energy: EnergySettings = field(default_factory=EnergySettings)
    collapse: CollapseSettings = field(default_factory=CollapseSettings)
    image: ImageSettings = field(default_factory=ImageSettings)
    video: VideoSettings = field(default_factory=VideoSettings)
    world: WorldSettings = field(default_factory=WorldSettings)
    plan: PlanSettings = field(default_factory=PlanSettings)

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
        # 16x16 canvas (7-px digits), widths 8: a smoke run of the whole pipeline in under a minute.
        video=VideoSettings(canvas=16, n_train=1_000, n_val=64, batch_size=8, steps=100, head_steps=60, enc_width=8,
                            pred_width=8, loss_positions=2_048, decoder_lr=1e-3, eval_batch=32),
        world=WorldSettings(n_traj=2_000, clip_len=13, batch_size=64, steps=40, stacks=(8, 16, 16), pool=2,
                            latent_dim=64, idm_hidden=128, probe_hidden=128, fixed_wall=True),
        plan=PlanSettings(episodes=8, max_steps=100, replan_every=4, horizon=40, num_samples=64, num_iters=5,
                          num_elites=8, noise_std=3.0, temperature=1.0),
    ),
    "cpu": Preset(
        "cpu",
        "laptop CPU, <= 10 min per chapter (chapters 3 and 5 run longer)",
        EnergySettings(),
        CollapseSettings(n_train=20_000, batch_size=256, steps=600, n_eval=2048, probe=True),
        image=ImageSettings(),
        # 32x32 canvas (14-px digits), widths 16, 4,096 loss positions per step: ~16 min for bench video
        # (untrained + K=1 + K=4) on one CPU core.
        video=VideoSettings(canvas=32, n_train=4_000, n_val=256, batch_size=16, steps=250, head_steps=100,
                            enc_width=16, pred_width=16, loss_positions=4_096, decoder_lr=1e-3),
        # one fixed layout (a 64-d latent does not learn where a random door is in CPU minutes, chapter 5),
        # 33-frame clips and 32-step rollouts in the loss (8-step ones drift off within 16 steps of a plan)
        world=WorldSettings(n_traj=20_000, clip_len=33, rollout_steps=32, batch_size=32, steps=2_000, stacks=(8, 16, 16),
                            pool=2, latent_dim=64, idm_hidden=128, probe_hidden=128, fixed_wall=True),
        # the paper's episode (200 steps) and horizon (90); replanning every 4 steps with 5 warm-started
        # iterations keeps 100 episodes at a few CPU minutes (every step and J = 20 would be ~16x more)
        plan=PlanSettings(episodes=100, max_steps=200, replan_every=4, horizon=90, num_samples=200, num_iters=5,
                          num_elites=20, noise_std=3.0, temperature=1.0),
    ),
    "gpu": Preset(
        "gpu",
        "one GPU (Colab T4 or local), <= 20 min per chapter",
        EnergySettings(n_points=400, grid=101, n_latent=96, train_steps=600),
        CollapseSettings(n_train=60_000, batch_size=512, steps=2_000, embed_dim=64, width=64,
                         n_eval=4096, probe=True),
        image=ImageSettings(encoder="resnet18", n_train=50_000, steps=2_000, sweep_steps=1_000,
                            optimizer="lars", lr=0.3, warmup_frac=10 / 300, proj_hidden=2048,
                            vicreg_dim=1024, sigreg_dim=128, covariance=100.0, hue=0.1, amp=True),
        video=VideoSettings(n_train=18_000, n_val=2_000, batch_size=32, steps=3_000, head_steps=300, decoder_lr=1e-3),
        world=WorldSettings(n_traj=100_000, batch_size=256, steps=3_000, latent_dim=256),
        plan=PlanSettings(),
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
                            vicreg_dim=1024, sigreg_dim=128, covariance=100.0, hue=0.1, amp=True),
        # 50 epochs of 281 steps (18,000 clips, batch 64), every position in the losses (paper Table 6).
        video=VideoSettings(),
        world=WorldSettings(n_traj=100_000, batch_size=384, steps=3_120),
        plan=PlanSettings(),
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


def parse_overrides(pairs, base, flag: str) -> dict:
    """Command-line ``FIELD=VALUE`` pairs (``bench world --world-set/--plan-set``) as settings overrides:
    ``["latent_dim=128", "fixed_wall=true", "weights.idm=0"]`` -> typed overrides of the settings ``base``
    (a dataclass instance, e.g. a preset's ``world``, or a dataclass, meaning its defaults). A dotted FIELD
    sets one field of a nested dataclass and keeps the rest of ``base``'s; bad names and values raise
    ``ValueError`` naming ``flag`` and the allowed fields."""
    import dataclasses
    base = base() if isinstance(base, type) else base
    nested = {f.name: getattr(base, f.name) for f in dataclasses.fields(base)
              if dataclasses.is_dataclass(getattr(base, f.name))}
    fields = [f.name for f in dataclasses.fields(base) if f.name not in nested]
    fields += [f"{n}.{f.name}" for n, v in nested.items() for f in dataclasses.fields(v)]
    out = {}
    for pair in pairs or ():
        key, sep, value = pair.partition("=")
        if not sep or key not in fields:
            raise ValueError(f"{flag} takes FIELD=VALUE with FIELD one of {', '.join(fields)}; got {pair!r}")
        head, dot, sub = key.partition(".")
        if dot:
            inner = parse_overrides([f"{sub}={value}"], nested[head], flag)
            out[head] = dataclasses.replace(out.get(head, nested[head]), **inner)
            continue
        default = getattr(type(base)(), key)      # the type to read VALUE as
        try:
            if isinstance(default, bool):
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError
                out[key] = value.lower() in ("true", "1")
            elif isinstance(default, tuple):
                out[key] = tuple(int(v) for v in value.split(","))
            elif value.lower() == "none":
                out[key] = None
            elif isinstance(default, (int, float)) and not isinstance(default, bool):
                out[key] = type(default)(float(value)) if isinstance(default, float) else int(value)
            else:
                out[key] = value
        except ValueError:
            raise ValueError(f"{flag} {key}: cannot read {value!r} as {type(default).__name__}") from None
    return out
