"""Networks: small CPU ConvNets, the CIFAR ResNet-18 variant, projector MLPs, the video networks and IMPALA.

Chapter 2 uses :class:`ConvEncoder` + :func:`projector`; chapter 3 adds the CIFAR
ResNet-18 (:func:`cifar_resnet18`, as in the reference code, see :doc:`/book/paper_and_book`).
Chapter 4's video JEPA (:mod:`ebjepa_mini.video`) is built from the per-frame encoder :class:`ResNet5`,
the two-frame :class:`PairPredictor` (a :class:`ResUNet`), the :class:`VideoProjector` and the
read-out heads :class:`DetectionHead` and :class:`PixelDecoder` (layers as in the reference code).
Chapter 5's world model (:mod:`ebjepa_mini.world`) encodes Two Rooms frames with the :class:`ImpalaEncoder`.
Clips are ``x: [B, T, C, H, W]`` and representations ``z: [B, T, D, H, W]`` (time at dim 1, so
folding time into the batch, :func:`fold_time`, is a free reshape).
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .data.moving_mnist import GRID
from .data.two_rooms import SIZE as ROOM_SIZE

__all__ = ["ConvEncoder", "projector", "BasicBlock", "CIFARResNet18", "cifar_resnet18", "count_parameters",
           "check_clip", "fold_time", "ResNet5", "ResUNet", "PairPredictor", "VideoProjector", "DetectionHead",
           "PixelDecoder", "ImpalaEncoder"]


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


class ConvEncoder(nn.Module):
    """A small ConvNet that runs fast on a laptop CPU: 3x3 convs + BatchNorm + ReLU, global pool.

    Args:
        in_channels: 1 for MNIST, 3 for CIFAR.
        channels: output channels of each conv layer.
        strides: stride of each conv layer (same length as ``channels``).

    Shapes:
        ``x: [B, C, H, W]`` -> ``h: [B, channels[-1]]``.

    The ``cpu``-preset CIFAR encoder of chapter 3 is ``ConvEncoder(3, (32, 64, 64, 128, 256),
    (1, 2, 1, 2, 2))`` (about 0.43 M parameters).
    """

    def __init__(self, in_channels: int = 1, channels: Sequence[int] = (32, 64, 64),
                 strides: Sequence[int] = (2, 2, 1)):
        super().__init__()
        if len(channels) != len(strides) or not channels:
            raise ValueError(f"channels and strides must be non-empty and of equal length, got "
                             f"{len(channels)} and {len(strides)}")
        layers: list[nn.Module] = []
        c_in = in_channels
        for c, s in zip(channels, strides):
            layers += [nn.Conv2d(c_in, c, 3, stride=s, padding=1, bias=False), nn.BatchNorm2d(c),
                       nn.ReLU(inplace=True)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.out_dim = c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean(dim=(2, 3))


def projector(in_dim: int, hidden: int | None, out_dim: int, layers: int = 3, batch_norm: bool = True) -> nn.Module:
    """Projector MLP (paper Table 5: three layers): ``(Linear + BatchNorm1d + ReLU) x (layers-1)``, then ``Linear``.

    ``hidden=None`` or ``layers=0`` gives "no projector" (identity): the regulariser then
    acts on the encoder features directly. The last layer has no normalisation, so the
    projector's output *can* collapse -- which is what the regularisers prevent.

    Args:
        in_dim: encoder feature dimension F.
        hidden: hidden width H (e.g. 2048 in EB-JEPA), or None for identity.
        out_dim: output dimension P.
        layers: number of Linear layers (EB-JEPA: 3).
        batch_norm: BatchNorm1d after each hidden Linear (EB-JEPA: yes).
    """
    if hidden is None or layers == 0:
        return nn.Identity()
    if layers < 1 or min(in_dim, hidden, out_dim) < 1:
        raise ValueError(f"layers, in_dim, hidden and out_dim must be >= 1; got layers={layers}, "
                         f"in_dim={in_dim}, hidden={hidden}, out_dim={out_dim}")
    mods: list[nn.Module] = []
    d = in_dim
    for _ in range(layers - 1):
        mods += [nn.Linear(d, hidden), nn.BatchNorm1d(hidden) if batch_norm else nn.Identity(), nn.ReLU(inplace=True)]
        d = hidden
    mods.append(nn.Linear(d, out_dim))
    return nn.Sequential(*mods)


class BasicBlock(nn.Module):
    """ResNet basic block: conv3x3-BN-ReLU-conv3x3-BN plus (projected) shortcut, then ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class CIFARResNet18(nn.Module):
    """ResNet-18 for 32x32 images as in EB-JEPA's image example (reference code).

    The ImageNet stem (7x7 stride-2 conv + max-pool) is replaced by a 3x3 stride-1 conv
    with padding 2 (so maps are 34x34), no max-pool; four stages of two basic blocks
    (64, 128, 256, 512 channels); global average pooling; no classifier.

    Shapes: ``x: [B, 3, 32, 32]`` -> ``h: [B, 512]``. About 11.2 M parameters.
    """

    def __init__(self, in_channels: int = 3, widths: Sequence[int] = (64, 128, 256, 512), stem_padding: int = 2):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, 1, stem_padding, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        blocks: list[nn.Module] = []
        c = widths[0]
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            blocks += [BasicBlock(c, w, stride), BasicBlock(w, w, 1)]
            c = w
        self.blocks = nn.Sequential(*blocks)
        self.out_dim = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x)).mean(dim=(2, 3))


def cifar_resnet18(in_channels: int = 3) -> CIFARResNet18:
    """The CIFAR ResNet-18 variant of the reference code (random init)."""
    return CIFARResNet18(in_channels)


def check_clip(x: torch.Tensor, name: str, min_frames: int = 1) -> None:
    """Raise unless ``x`` is a clip tensor ``[B, T, C, H, W]`` with at least ``min_frames`` frames."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape [B, T, C, H, W], got {type(x).__name__}")
    if x.dim() != 5:
        raise ValueError(f"{name} must have shape [B, T, C, H, W] (5 dims), got shape {tuple(x.shape)}")
    if x.shape[1] < min_frames:
        raise ValueError(f"{name} needs T >= {min_frames} frames (dim 1), got T = {x.shape[1]}")


def fold_time(x: torch.Tensor) -> torch.Tensor:
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
    (:class:`BasicBlock`, each ending in a ReLU, so ``z >= 0``). The paper's
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
        check_clip(x, "x")
        b, t = x.shape[:2]
        z = self.blocks(self.stem(fold_time(x)))
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
        check_clip(z, "z", min_frames=2)
        b, t = z.shape[:2]
        pairs = torch.cat([z[:, :-1], z[:, 1:]], dim=2)      # [B, T-1, 2D, H, W]
        out = self.unet(fold_time(pairs))
        return out.reshape(b, t - 1, *out.shape[1:])


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
        check_clip(z, "z")
        b, t = z.shape[:2]
        out = self.net(F.adaptive_avg_pool2d(fold_time(z), self.grid))
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
        check_clip(z, "z")
        b, t = z.shape[:2]
        out = self.net(fold_time(z))
        return out.reshape(b, t, *out.shape[1:])


class _ImpalaBlock(nn.Module):
    """Residual block of the reference IMPALA encoder: ``relu(x + conv(relu(conv(x))))`` (biases, no normalisation)."""

    def __init__(self, ch: int):
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return F.relu(x + self.conv2(F.relu(self.conv1(x))))


class ImpalaEncoder(nn.Module):
    """IMPALA encoder (paper Table 6): per stack conv 3×3 -> max-pool 3×3/2 -> residual blocks; then
    ReLU, flatten, Linear to ``latent_dim`` and LayerNorm.

    Args:
        in_channels: 2 (dot, walls).
        stacks: channels per stack; the paper uses (16, 32, 32), 65 -> 33 -> 17 -> 9 pixels.
        blocks: residual blocks per stack (2).
        latent_dim: D (paper 512).
        size: input side (65).
        pool: average-pool the input by this factor first (1 = the paper; 2 makes the small presets
            4× cheaper: the blob and the 3-px wall survive a 2×2 average).

    Shapes: ``x: [N, C, H, W] -> [N, D]``.
    """

    def __init__(self, in_channels: int = 2, stacks: tuple[int, ...] = (16, 32, 32), blocks: int = 2,
                 latent_dim: int = 512, size: int = ROOM_SIZE, pool: int = 1):
        super().__init__()
        if not isinstance(pool, int) or pool < 1:
            raise ValueError(f"pool must be an int >= 1, got {pool!r}")
        if not stacks or any(int(c) < 1 for c in stacks):
            raise ValueError(f"stacks must be a non-empty tuple of positive channel counts, got {stacks!r}")
        if latent_dim < 2:
            raise ValueError(f"latent_dim must be >= 2, got {latent_dim}")
        layers, ch, side = ([nn.AvgPool2d(pool)] if pool > 1 else []), in_channels, size // pool
        for c in stacks:
            layers += [nn.Conv2d(ch, c, 3, padding=1), nn.MaxPool2d(3, stride=2, padding=1)]
            layers += [_ImpalaBlock(c) for _ in range(blocks)]
            ch, side = c, (side + 1) // 2
        self.convs = nn.Sequential(*layers)
        self.fc = nn.Linear(ch * side * side, latent_dim)
        self.norm = nn.LayerNorm(latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.convs(x))
        return self.norm(self.fc(h.flatten(1)))
