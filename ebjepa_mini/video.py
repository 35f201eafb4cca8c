"""Video JEPA on Moving MNIST: per-frame encoder, two-frame predictor, K-step rollouts (chapter 4).

The model of EB-JEPA's video example (paper eqs. 3, 9-11 and Table 6; layers as in
the reference code (see :doc:`/book/paper_and_book`)), sized by ``preset.video``:

* :class:`ResNet5` encodes every frame separately into a ``D``-channel map at full resolution
  (non-negative, final ReLU);
* :class:`PairPredictor` (a :class:`ResUNet`) maps two consecutive frame representations
  ``(z_{t-1}, z_t)`` to a prediction of ``z_{t+1}``;
* :class:`VideoProjector` (16 -> 64 -> 64, applied at every position) feeds both the VICReg
  regulariser, whose samples are the (clip, frame, row, column) positions (:func:`positions`),
  and the prediction loss;
* :func:`rollout` re-feeds predictions ``K`` times in the reference's "parallel" mode;
* :class:`DetectionHead` and :class:`PixelDecoder` read the representations out (trained on
  detached features, they never shape the encoder); :func:`average_precision_by_horizon` scores
  the detection maps of 1-, 2-, ... step-ahead predictions with scikit-learn's average precision.

Tensor layout: clips are ``x: [B, T, C, H, W]`` and representations ``z: [B, T, D, H, W]``
(time at dim 1, so that folding time into the batch is a free reshape); the reference stores time
at dim 2 (``[B, C, T, H, W]``). :class:`VideoExperiment` trains and evaluates the models of the
chapter and of ``python -m ebjepa_mini.bench video``.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data.moving_mnist import GRID, MovingMNIST
from .nets import BasicBlock, count_parameters
from .presets import VideoSettings, get_preset
from .regularizers import vicreg_covariance, vicreg_variance
from .train import Trainer

__all__ = ["ResNet5", "ResUNet", "PairPredictor", "positions", "VideoProjector", "DetectionHead", "PixelDecoder",
           "VideoJEPA", "rollout", "teacher_forced", "prediction_orders", "video_jepa_loss",
           "average_precision_by_horizon", "VideoRun", "VideoExperiment"]


def _check_clip(x: torch.Tensor, name: str, min_frames: int = 1) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape [B, T, C, H, W], got {type(x).__name__}")
    if x.dim() != 5:
        raise ValueError(f"{name} must have shape [B, T, C, H, W] (5 dims), got shape {tuple(x.shape)}")
    if x.shape[1] < min_frames:
        raise ValueError(f"{name} needs T >= {min_frames} frames (dim 1), got T = {x.shape[1]}")


def _fold(x: torch.Tensor) -> torch.Tensor:
    """``[B, T, C, H, W]`` -> ``[B*T, C, H, W]`` (channels-last when the input is)."""
    return x.reshape(-1, *x.shape[2:])


def _init_heads(module: nn.Module) -> None:
    """Truncated-normal (std 0.02) weights and zero biases, as the reference's read-out heads."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class ResNet5(nn.Module):
    """Per-frame encoder "ResNet-5" (reference code): stem + three residual blocks, stride 1, no pooling.

    Stem 3x3 conv ``C -> h`` + BN + ReLU; blocks ``h -> h``, ``h -> 2h``, ``2h -> D``
    (:class:`~ebjepa_mini.nets.BasicBlock`, each ending in a ReLU, so ``z >= 0``). The paper's
    model is ``ResNet5(1, 32, 16)`` (about 89 k parameters).

    Args:
        in_channels: frame channels C (1 for Moving MNIST).
        hidden: width h (32 in the paper).
        out_dim: representation channels D (16 in the paper).

    Shapes:
        ``x: [B, T, C, H, W]`` -> ``z: [B, T, D, H, W]`` (resolution kept; each frame separately).
    """

    def __init__(self, in_channels: int = 1, hidden: int = 32, out_dim: int = 16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, hidden, 3, 1, 1, bias=False), nn.BatchNorm2d(hidden),
                                  nn.ReLU(inplace=True))
        self.blocks = nn.Sequential(BasicBlock(hidden, hidden), BasicBlock(hidden, 2 * hidden),
                                    BasicBlock(2 * hidden, out_dim))
        self.out_dim = out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_clip(x, "x")
        b, t = x.shape[:2]
        z = self.blocks(self.stem(_fold(x)))
        return z.reshape(b, t, *z.shape[1:])


class ResUNet(nn.Module):
    """Residual U-Net of the video predictor (reference code), for inputs whose side divides by 8.

    Encoder: stem 3x3 conv ``in -> h`` + BN + ReLU, residual blocks ``h -> h`` (full resolution),
    ``h -> 2h`` (/2), ``2h -> 4h`` (/4), bottleneck ``4h -> 8h`` (/8). Decoder: three times a
    transposed conv (kernel 2, stride 2) halving the channels, concatenation with the skip, and a
    residual block; a 1x1 conv head ``h -> out`` with a bias and no activation. The paper's model is
    ``ResUNet(32, 32, 16)`` (about 2.0 M parameters).

    Shapes:
        ``[N, in, H, W]`` -> ``[N, out, H, W]``.
    """

    def __init__(self, in_channels: int = 32, hidden: int = 32, out_channels: int = 16):
        super().__init__()
        h = hidden
        self.stem = nn.Sequential(nn.Conv2d(in_channels, h, 3, 1, 1, bias=False), nn.BatchNorm2d(h),
                                  nn.ReLU(inplace=True))
        self.enc1, self.enc2 = BasicBlock(h, h), BasicBlock(h, 2 * h, 2)
        self.enc3, self.bottleneck = BasicBlock(2 * h, 4 * h, 2), BasicBlock(4 * h, 8 * h, 2)
        self.up3, self.dec3 = nn.ConvTranspose2d(8 * h, 4 * h, 2, 2), BasicBlock(8 * h, 4 * h)
        self.up2, self.dec2 = nn.ConvTranspose2d(4 * h, 2 * h, 2, 2), BasicBlock(4 * h, 2 * h)
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * h, h, 2, 2), BasicBlock(2 * h, h)
        self.head = nn.Conv2d(h, out_channels, 1)

    @staticmethod
    def _join(up: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        if up.shape[-2:] != skip.shape[-2:]:                 # odd sizes: resize like the reference
            up = F.interpolate(up, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return torch.cat([up, skip], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(self.stem(x))
        e2 = self.enc2(e1)
        e3 = self.enc3(e2)
        b = self.bottleneck(e3)
        d3 = self.dec3(self._join(self.up3(b), e3))
        d2 = self.dec2(self._join(self.up2(d3), e2))
        d1 = self.dec1(self._join(self.up1(d2), e1))
        return self.head(d1)


class PairPredictor(nn.Module):
    """Two-frame predictor (paper eq. 3): ``ẑ_{t+1} = g(z_{t-1}, z_t)`` for every adjacent pair.

    Concatenates each pair along channels (``2D``) and runs a :class:`ResUNet` on all pairs at once
    (time folded into the batch).

    Args:
        dim: representation channels D.
        hidden: U-Net width h (32 in the paper).

    Shapes:
        ``z: [B, T, D, H, W]`` -> ``[B, T-1, D, H, W]``; output ``i`` predicts frame ``i + 2``.
    """

    def __init__(self, dim: int = 16, hidden: int = 32):
        super().__init__()
        self.unet = ResUNet(2 * dim, hidden, dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _check_clip(z, "z", min_frames=2)
        b, t = z.shape[:2]
        pairs = torch.cat([z[:, :-1], z[:, 1:]], dim=2)      # [B, T-1, 2D, H, W]
        out = self.unet(_fold(pairs))
        return out.reshape(b, t - 1, *out.shape[1:])


def positions(z: torch.Tensor) -> torch.Tensor:
    """Every (clip, frame, row, column) position as one sample: ``[B, T, D, H, W]`` -> ``[B*T*H*W, D]``.

    This is how the video regulariser sees a batch (reference code): each position of each frame is a sample.
    """
    _check_clip(z, "z")
    return _fold(z).permute(0, 2, 3, 1).reshape(-1, z.shape[2])


class VideoProjector(nn.Module):
    """The video projector "16-64-64" (reference code), applied to position samples.

    ``Linear(D -> h) + BatchNorm1d + ReLU + Linear(h -> P, no bias)``. Shared by the regulariser and
    the prediction loss (both compare projected vectors).

    Shapes:
        ``[N, D]`` (e.g. from :func:`positions`) -> ``[N, P]``.
    """

    def __init__(self, dim: int = 16, hidden: int = 64, out_dim: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
                                 nn.Linear(hidden, out_dim, bias=False))
        self.out_dim = out_dim

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if not isinstance(z, torch.Tensor) or z.dim() != 2:
            raise ValueError(f"z must be a [N, D] tensor of position samples (see positions()), got "
                             f"{tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__}")
        return self.net(z)


class DetectionHead(nn.Module):
    """Digit-location read-out (reference code): pool each frame to 8x8, two 3x3 convs ``D -> 32 -> 1``.

    Returns logits (apply a sigmoid for probabilities); trained with binary cross-entropy against
    the 8x8 maps on *detached* features.

    Shapes:
        ``z: [B, T, D, H, W]`` -> logits ``[B, T, 8, 8]``.
    """

    def __init__(self, dim: int = 16, hidden: int = 32, grid: int = GRID):
        super().__init__()
        self.grid = grid
        self.net = nn.Sequential(nn.Conv2d(dim, hidden, 3, 1, 1), nn.ReLU(inplace=True), nn.Conv2d(hidden, 1, 3, 1, 1))
        _init_heads(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _check_clip(z, "z")
        b, t = z.shape[:2]
        out = self.net(F.adaptive_avg_pool2d(_fold(z), self.grid))
        return out.reshape(b, t, self.grid, self.grid)


class PixelDecoder(nn.Module):
    """Small pixel decoder for pictures only (reference code): conv3x3 ``D -> D``, ReLU, conv3x3 ``D -> C``.

    Trained with MSE to the frames on *detached* features; no up-sampling (the representation keeps
    the frame's resolution) and no output squashing.

    Shapes:
        ``z: [B, T, D, H, W]`` -> ``[B, T, C, H, W]``.
    """

    def __init__(self, dim: int = 16, out_channels: int = 1):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(dim, dim, 3, 1, 1), nn.ReLU(inplace=True),
                                 nn.Conv2d(dim, out_channels, 3, 1, 1))
        _init_heads(self)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        _check_clip(z, "z")
        b, t = z.shape[:2]
        out = self.net(_fold(z))
        return out.reshape(b, t, *out.shape[1:])


def rollout(predictor: nn.Module, z: torch.Tensor, steps: int) -> list[torch.Tensor]:
    """K-step rollout in the reference's "parallel" mode (paper eqs. 9-10, as coded in the reference).

    ``S^(0) = z``; for ``k = 1..K`` the predictor runs on every adjacent pair of ``S^(k-1)`` and
    ``S^(k) = [z_0, z_1, ẑ_2, ..., ẑ_{T-1}]`` keeps the two ground-truth context frames and the
    predictions of frames ``2..T-1`` (the pair that would predict frame ``T`` is not run; the
    reference runs it and drops its output). Frame ``t`` of ``S^(k)`` is a prediction of order
    ``min(t - 1, k)`` (:func:`prediction_orders`): a ``k``-step-ahead prediction wherever ``t > k``.
    Nothing is detached: gradients flow through all ``K`` passes.

    Args:
        predictor: a :class:`PairPredictor` (``[B, T, D, H, W] -> [B, T-1, D, H, W]``).
        z: encoder outputs ``[B, T, D, H, W]`` with ``T >= 3``.
        steps: K >= 0.

    Returns:
        ``[S^(0), S^(1), ..., S^(K)]``, each ``[B, T, D, H, W]``.
    """
    _check_clip(z, "z", min_frames=3)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0 (the number of rollout steps K), got {steps!r}")
    states = [z]
    s = z
    for _ in range(steps):
        pred = predictor(s[:, :-1])                          # pairs (0,1) .. (T-3,T-2) -> frames 2 .. T-1
        s = torch.cat([z[:, :2], pred], dim=1)
        states.append(s)
    return states


def teacher_forced(predictor: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """One-step predictions from ground-truth pairs only (teacher forcing): ``[B, T-2, D, H, W]``
    for frames ``2..T-1``. Equal to frames ``2:`` of ``rollout(predictor, z, 1)[1]``."""
    _check_clip(z, "z", min_frames=3)
    return predictor(z[:, :-1])


def prediction_orders(n_frames: int, steps: int) -> np.ndarray:
    """Order (number of predictor calls since ground truth) of every frame of ``S^(0..K)``.

    Returns:
        ``int [K+1, T]``: entry ``(k, t)`` is ``min(t - 1, k)`` for ``t >= 2`` and 0 for the two
        ground-truth context frames (paper eq. 9's "order", counted in the reference's "parallel" mode).
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, int) or n_frames < 3:
        raise ValueError(f"n_frames must be an int >= 3, got {n_frames!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    k = np.arange(steps + 1)[:, None]
    t = np.arange(n_frames)[None, :]
    return np.where(t >= 2, np.minimum(t - 1, k), 0)


def video_jepa_loss(model: "VideoJEPA", x: torch.Tensor, steps: int, std_coeff: float = 10.0,
                    cov_coeff: float = 100.0, loss_positions: int | None = None,
                    generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict, list[torch.Tensor]]:
    """The video JEPA objective with a K-step rollout (paper eqs. 3, 9-11, as in the reference code).

    .. math:: L = \\frac1K\\sum_{k=1}^{K} \\mathrm{MSE}\\bigl(h(S^{(k)}), h(z)\\bigr)
              + \\alpha\\, v(h(z)) + \\beta\\, c(h(z))

    with ``h`` the shared :class:`VideoProjector`, ``S^(k)`` from :func:`rollout`, and ``v``, ``c``
    the VICReg variance and covariance terms (:func:`~ebjepa_mini.regularizers.vicreg_variance`,
    :func:`~ebjepa_mini.regularizers.vicreg_covariance`) with every (clip, frame, row, column)
    position as a sample. As in the reference code: the MSE is the mean over all positions and
    channels, including the two copied context frames; the K terms are averaged (the paper sums
    them); the regulariser sees ground-truth encodings only; targets are not detached.

    Args:
        model: a :class:`VideoJEPA`.
        x: clips ``[B, T, C, H, W]``, ``T >= 3``.
        steps: rollout steps K >= 1.
        std_coeff: alpha (paper video: 10).
        cov_coeff: beta (paper video: 100).
        loss_positions: if set, both the regulariser and the prediction loss use this many positions
            drawn at random (without replacement, the same positions for predictions and targets)
            instead of all ``B*T*H*W``: an unbiased estimate of the MSE that makes the projector
            affordable on a CPU (the reference uses all positions). The encoder and predictor still
            run on every pixel.
        generator: random generator for the position subsample.

    Returns:
        ``(loss, terms, states)``: scalar loss, a dict of floats (``pred``, ``variance``,
        ``covariance``, ``vc``, ``total``, ``pred_k1`` ...), and the rollout states ``S^(0..K)``.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1 (rollout steps K), got {steps!r}")
    for name, w in (("std_coeff", std_coeff), ("cov_coeff", cov_coeff)):
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not np.isfinite(w) or w < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {w!r}")
    if loss_positions is not None and (isinstance(loss_positions, bool) or not isinstance(loss_positions, int)
                                       or loss_positions < 2):
        raise ValueError(f"loss_positions must be None (all positions) or an int >= 2, got {loss_positions!r}")
    _check_clip(x, "x", min_frames=3)
    z = model.encoder(x)
    zs = positions(z)                                        # [N, D], N = B*T*H*W
    idx = None
    if loss_positions is not None and loss_positions < len(zs):
        idx = torch.randperm(len(zs), generator=generator)[:loss_positions].to(zs.device)
        zs = zs[idx]
    target = model.projector(zs)
    var, cov = vicreg_variance(target), vicreg_covariance(target)
    states = rollout(model.predictor, z, steps)
    terms = {}
    pred = 0.0
    for k, s in enumerate(states[1:], start=1):
        ss = positions(s)
        lk = F.mse_loss(model.projector(ss if idx is None else ss[idx]), target)
        terms[f"pred_k{k}"] = lk.item()
        pred = pred + lk / steps
    vc = std_coeff * var + cov_coeff * cov
    loss = pred + vc
    terms.update(pred=float(pred.detach()), variance=var.item(), covariance=cov.item(), vc=vc.item(),
                 total=loss.item())
    return loss, terms, states


class VideoJEPA(nn.Module):
    """Encoder, predictor and projector of the video JEPA, plus the two read-out heads.

    Args:
        settings: a :class:`~ebjepa_mini.presets.VideoSettings` (widths, latent and projector dims).
        in_channels: frame channels (1).
    """

    def __init__(self, settings: VideoSettings, in_channels: int = 1):
        super().__init__()
        d = settings.latent_dim
        self.encoder = ResNet5(in_channels, settings.enc_width, d)
        self.predictor = PairPredictor(d, settings.pred_width)
        self.projector = VideoProjector(d, settings.proj_hidden, settings.proj_dim)
        self.det_head = DetectionHead(d)
        self.decoder = PixelDecoder(d, in_channels)

    def jepa_parameters(self):
        """Parameters trained by the JEPA loss (encoder, predictor, projector)."""
        for m in (self.encoder, self.predictor, self.projector):
            yield from m.parameters()

    def parameter_counts(self) -> dict[str, int]:
        """Trainable parameters of each part."""
        return {k: count_parameters(getattr(self, k)) for k in ("encoder", "predictor", "projector", "det_head",
                                                                "decoder")}


def average_precision_by_horizon(scores: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray) -> float:
    """Binary average precision of scores against 0/1 labels over all flattened cells (scikit-learn).

    A thin, checked wrapper of :func:`sklearn.metrics.average_precision_score`: AP is the area under
    the precision-recall curve, 1.0 for a scorer that ranks every positive above every negative and
    about the positive rate for a random scorer.

    Args:
        scores: any shape (e.g. ``[B, T, 8, 8]`` logits or probabilities; only the order matters).
        labels: same shape, values in {0, 1}, at least one positive.

    Returns:
        AP as a float in ``[0, 1]``.
    """
    from sklearn.metrics import average_precision_score

    s = scores.detach().cpu().numpy() if isinstance(scores, torch.Tensor) else np.asarray(scores)
    y = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if s.shape != y.shape:
        raise ValueError(f"scores and labels must have the same shape, got {s.shape} and {y.shape}")
    y = y.reshape(-1)
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be binary (values 0 and 1)")
    if y.sum() == 0:
        raise ValueError("labels need at least one positive cell for average precision")
    return float(average_precision_score(y, s.reshape(-1).astype(np.float64)))


@dataclass
class VideoRun:
    """One trained (or untrained) video JEPA, evaluated on the validation clips."""

    name: str
    steps_k: int                 # rollout steps K used in training (0: untrained)
    steps: int                   # JEPA optimiser steps
    seconds: float               # training wall time (JEPA + concurrent heads + head phase)
    history: dict                # per-step loss terms
    ap: list[float]              # AP per horizon: ap[h] scores (h+1)-step-ahead predictions
    ap_gt: float                 # AP of the head on ground-truth frame representations
    recon_mse: float             # pixel-decoder MSE on validation frames
    model: VideoJEPA = field(repr=False)

    @property
    def map(self) -> float:
        """Mean AP over the horizons (the paper's "mAP")."""
        return float(np.mean(self.ap))

    def summary(self) -> dict:
        return {"name": self.name, "k": self.steps_k, "map": round(self.map, 4),
                "ap_by_horizon": [round(a, 4) for a in self.ap],
                **{f"ap_{h}": round(a, 4) for h, a in enumerate(self.ap)}, "ap_gt": round(self.ap_gt, 4),
                "recon_mse": round(self.recon_mse, 5), "steps": self.steps, "train_s": round(self.seconds, 1),
                "steps_per_s": round(self.steps / self.seconds, 3) if self.steps and self.seconds > 0 else None}

    def __str__(self) -> str:
        aps = " ".join(f"{a:.2f}" for a in self.ap)
        return (f"{self.name:10s} mAP {self.map:.3f} | AP by horizon {aps} | AP on true frames {self.ap_gt:.3f} "
                f"({self.steps} steps, {self.seconds:.0f} s)")


class VideoExperiment:
    """Train and evaluate video JEPAs on generated Moving MNIST (chapter 4, ``bench video``).

    Args:
        preset: preset name or ``None`` (``EBJEPA_PRESET`` or the device); sizes from ``preset.video``.
        seed: seed of data generation, initialisation and batches.
        settings: a :class:`~ebjepa_mini.presets.VideoSettings` replacing the preset's.
        device: torch device (default: CUDA if available, else CPU).
        allow_fallback: without ``mnist.npz``, bounce the labelled scikit-learn fallback digits.

    Usage::

        exp = VideoExperiment("ci")
        run = exp.train(4)          # K = 4
        print(run)                  # AP per horizon, mAP
    """

    def __init__(self, preset: str | None = None, seed: int = 0, settings: VideoSettings | None = None,
                 device=None, allow_fallback: bool = True):
        self.preset = get_preset(preset)
        self.cfg = settings if settings is not None else self.preset.video
        if not isinstance(self.cfg, VideoSettings):
            raise TypeError(f"settings must be a VideoSettings, got {type(self.cfg).__name__}")
        self.seed = seed
        self.device = torch.device(device) if device is not None else torch.device(
            "cuda" if torch.cuda.is_available() else "cpu")
        s = self.cfg
        self.data = MovingMNIST(s.n_train, s.n_val, canvas=s.canvas, clip_len=s.clip_len, seed=seed,
                                allow_fallback=allow_fallback)
        self.data_source = self.data.source
        self.val_x = MovingMNIST.to_tensor(self.data.val.frames)          # [N, T, 1, L, L] on CPU, moved per batch
        self.val_maps = torch.as_tensor(self.data.val.maps, dtype=torch.float32)
        self.runs: dict[str, VideoRun] = {}

    # -- helpers ----------------------------------------------------------------------------------
    def _prep(self, x: torch.Tensor) -> torch.Tensor:
        x = x.to(self.device)
        if self.cfg.channels_last:
            b, t = x.shape[:2]
            x = _fold(x).contiguous(memory_format=torch.channels_last).reshape(b, t, *x.shape[2:])
        return x

    def model(self) -> VideoJEPA:
        """A freshly initialised model (same initial weights for every K: seeded)."""
        torch.manual_seed(self.seed)
        m = VideoJEPA(self.cfg).to(self.device)
        return m.to(memory_format=torch.channels_last) if self.cfg.channels_last else m

    def batches(self, generator: torch.Generator):
        """An endless stream of ``(x [B, T, 1, L, L], maps [B, T, 8, 8])`` random training batches."""
        n, bs = len(self.data.train), min(self.cfg.batch_size, len(self.data.train))
        frames, maps = self.data.train.frames, self.data.train.maps
        while True:
            perm = torch.randperm(n, generator=generator).numpy()
            for a in range(0, n - bs + 1, bs):
                idx = np.sort(perm[a:a + bs])
                yield self._prep(MovingMNIST.to_tensor(frames[idx])), torch.from_numpy(maps[idx]).float().to(self.device)

    def _optimizer(self, model: VideoJEPA, jepa: bool) -> torch.optim.Optimizer:
        s = self.cfg
        groups = [{"params": list(model.det_head.parameters()), "lr": s.head_lr},
                  {"params": list(model.decoder.parameters()), "lr": s.decoder_lr}]
        if jepa:
            groups.insert(0, {"params": list(model.jepa_parameters()), "lr": s.lr})
        return torch.optim.Adam(groups)

    @staticmethod
    def _head_losses(model: VideoJEPA, z: torch.Tensor, x: torch.Tensor, maps: torch.Tensor):
        zd = z.detach()                                      # the heads never shape the encoder
        det = F.binary_cross_entropy_with_logits(model.det_head(zd), maps)
        rec = F.mse_loss(model.decoder(zd), x)
        return det, rec

    # -- training ---------------------------------------------------------------------------------
    def train(self, k: int, steps: int | None = None, head_steps: int | None = None,
              progress: bool | None = None, name: str | None = None) -> VideoRun:
        """Train a video JEPA with a ``k``-step rollout loss, then evaluate it; stores it in :attr:`runs`.

        The detection head and the pixel decoder train on detached features at the same time (one
        backward, as in the reference), then ``head_steps`` more steps on the frozen encoder (our
        addition: at book budgets the features move until the last step). ``k = 0`` trains no JEPA:
        the untrained-encoder baseline, whose heads get ``steps + head_steps`` steps.

        Args:
            k: rollout steps K (0 for the untrained baseline).
            steps: JEPA steps (default ``preset.video.steps``).
            head_steps: head-only steps after training (default ``preset.video.head_steps``).
            progress: tqdm bars (default: the Trainer's choice).
            name: key in :attr:`runs` (default ``"K{k}"`` or ``"untrained"``).
        """
        if isinstance(k, bool) or not isinstance(k, int) or k < 0:
            raise ValueError(f"k must be an int >= 0 (rollout steps; 0 = untrained baseline), got {k!r}")
        s = self.cfg
        steps = s.steps if steps is None else steps
        head_steps = s.head_steps if head_steps is None else head_steps
        for nm, v in (("steps", steps), ("head_steps", head_steps)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{nm} must be an int >= 0, got {v!r}")
        name = name or (f"K{k}" if k > 0 else "untrained")
        model = self.model()
        gen = torch.Generator().manual_seed(self.seed + 1)
        vc_gen = torch.Generator().manual_seed(self.seed + 2)
        stream = self.batches(gen)
        t0 = time.perf_counter()
        history: dict = {}
        if k > 0 and steps > 0:
            opt = self._optimizer(model, jepa=True)

            def step_fn():
                x, maps = next(stream)
                loss, terms, states = video_jepa_loss(model, x, k, s.vicreg_std, s.vicreg_cov, s.loss_positions, vc_gen)
                det, rec = self._head_losses(model, states[0], x, maps)
                terms.update(det_bce=det.item(), recon=rec.item())
                return loss + det + rec, terms

            trainer = Trainer({"model": model}, step_fn, opt, config={"k": k, **asdict(s)})
            history = dict(trainer.run(steps, progress=progress, desc=f"video JEPA K={k}"))
        n_head = head_steps + (steps if k == 0 else 0)
        if n_head > 0:                                       # the untrained baseline needs no pictures
            history.update(self._fit_heads(model, stream, n_head, progress, decoder=k > 0))
        seconds = time.perf_counter() - t0
        ap, ap_gt, rec = self.evaluate(model)
        run = VideoRun(name, k, steps if k > 0 else 0, seconds, history, ap, ap_gt, rec, model)
        self.runs[name] = run
        return run

    def _fit_heads(self, model: VideoJEPA, stream, steps: int, progress, decoder: bool = True) -> dict:
        opt = self._optimizer(model, jepa=False)
        model.encoder.eval()                                  # frozen encoder, running BN statistics

        def step_fn():
            x, maps = next(stream)
            with torch.no_grad():
                z = model.encoder(x)
            if not decoder:
                det = F.binary_cross_entropy_with_logits(model.det_head(z), maps)
                return det, {"head_det_bce": det.item()}
            det, rec = self._head_losses(model, z, x, maps)
            return det + rec, {"head_det_bce": det.item(), "head_recon": rec.item()}

        trainer = Trainer({"heads": nn.ModuleList([model.det_head, model.decoder])}, step_fn, opt)
        hist = trainer.run(steps, progress=progress, desc="read-out heads")
        return {f"head_{k}" if k == "step" else k: v for k, v in hist.items()}

    # -- evaluation -------------------------------------------------------------------------------
    @torch.no_grad()
    def evaluate(self, model: VideoJEPA, batch_size: int | None = None) -> tuple[list[float], float, float]:
        """AP per prediction horizon on the validation clips (the reference's protocol; horizons are
        indexed from 0).

        For each validation batch: encode, roll out ``T - 2`` steps, and for horizon index
        ``j = 0 .. T-4`` score the detection head on the frames ``2 + j .. T-1`` of ``S^(j+1)``, which
        are exactly the (j+1)-step-ahead predictions; AP per batch (scikit-learn), averaged over
        batches. ``AP_0`` is the one-step-ahead prediction; the last rollout step is not scored.

        Returns:
            ``(ap_by_horizon, ap_on_true_frames, recon_mse)``.
        """
        bs = batch_size or self.cfg.eval_batch
        model.eval()
        t_len = self.val_x.shape[1]
        n_h = t_len - 3
        aps, gts, recs = [], [], []
        for a in range(0, len(self.val_x), bs):
            x = self._prep(self.val_x[a:a + bs])                             # [B, T, 1, L, L]
            maps = self.val_maps[a:a + bs]
            if maps.sum() == 0:
                continue
            z = model.encoder(x)
            states = rollout(model.predictor, z, t_len - 2)
            aps.append([average_precision_by_horizon(model.det_head(states[h + 1][:, 2 + h:]), maps[:, 2 + h:])
                        for h in range(n_h)])
            gts.append(average_precision_by_horizon(model.det_head(z), maps))
            recs.append(F.mse_loss(model.decoder(z), x).item())
        model.train()
        return [float(v) for v in np.mean(aps, 0)], float(np.mean(gts)), float(np.mean(recs))

    @torch.no_grad()
    def predict_clip(self, run: VideoRun, index: int = 0) -> dict[str, np.ndarray]:
        """Pictures of one validation clip for the chapter's animation.

        Returns:
            dict of arrays over the clip's T frames: ``frames [T, L, L]``, ``one_step [T, L, L]``
            (decoded teacher-forced predictions; the two context frames decoded from their
            encodings), ``rollout [T, L, L]`` (decoded autoregressive rollout from frames 0-1),
            ``heat_rollout [T, 8, 8]`` (detection probabilities on the rollout) and ``maps [T, 8, 8]``.
        """
        if not 0 <= index < len(self.val_x):
            raise ValueError(f"index must be in [0, {len(self.val_x) - 1}], got {index}")
        model = run.model
        model.eval()
        x = self._prep(self.val_x[index:index + 1])
        z = model.encoder(x)
        t_len = z.shape[1]
        one = torch.cat([z[:, :2], teacher_forced(model.predictor, z)], 1)
        auto = rollout(model.predictor, z, t_len - 2)[-1]        # frame t has order t - 1: fully autoregressive
        out = {"frames": x[0, :, 0], "one_step": model.decoder(one)[0, :, 0], "rollout": model.decoder(auto)[0, :, 0],
               "heat_rollout": torch.sigmoid(model.det_head(auto))[0], "heat_one_step": torch.sigmoid(model.det_head(one))[0],
               "maps": self.val_maps[index]}
        model.train()
        return {k: v.detach().cpu().numpy() for k, v in out.items()}
