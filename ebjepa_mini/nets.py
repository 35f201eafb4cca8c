"""Networks: small CPU ConvNets, the CIFAR ResNet-18 variant, and projector MLPs.

Chapter 2 uses :class:`ConvEncoder` + :func:`projector`; chapter 3 adds the CIFAR
ResNet-18 (:func:`cifar_resnet18`, as in the reference code, see :doc:`/book/paper_and_book`).
Later chapters add their encoders and
predictors here (ResNet-5, ResUNet, IMPALA, GRU).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

__all__ = ["ConvEncoder", "projector", "BasicBlock", "CIFARResNet18", "cifar_resnet18", "count_parameters"]


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
