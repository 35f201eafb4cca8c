"""Two augmented views of a batch, computed batched on tensors (fast on a CPU).

Image JEPAs learn by making two random views of the same image agree (chapters 2-3).
Each function takes a float batch ``x: [B, C, H, W]`` with values in ``[0, 1]`` and an
optional ``torch.Generator``; every image gets its own random parameters.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

__all__ = ["ViewAugment", "random_resized_crop", "color_jitter", "adjust_hue", "rgb_to_hsv", "hsv_to_rgb",
           "random_grayscale", "random_solarize",
           "normalize", "two_views", "MNIST_VIEWS", "to_float_images"]


def _u(n: int, lo: float, hi: float, g: torch.Generator | None, device) -> torch.Tensor:
    return torch.rand(n, generator=g, device=device) * (hi - lo) + lo


def _bern(n: int, p: float, g: torch.Generator | None, device) -> torch.Tensor:
    return torch.rand(n, generator=g, device=device) < p


def to_float_images(x_uint8, device="cpu") -> torch.Tensor:
    """uint8 images ``[N, H, W]`` (grey) or ``[N, H, W, C]`` (colour) -> float ``[N, C, H, W]`` in [0, 1]."""
    x = torch.as_tensor(x_uint8)
    if x.dim() == 3:
        x = x.unsqueeze(1)
    elif x.dim() == 4:
        x = x.permute(0, 3, 1, 2)
    else:
        raise ValueError(f"x_uint8 must have shape [N, H, W] or [N, H, W, C], got {tuple(x.shape)}")
    return x.to(device=device, dtype=torch.float32).div_(255.0).contiguous()


def _check_batch(x: torch.Tensor, name: str = "x") -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or not x.is_floating_point():
        got = f"{type(x).__name__} {tuple(x.shape)} {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a float tensor [B, C, H, W] with values in [0, 1] "
                         f"(see to_float_images), got {got}")


def _check_p(name: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")


def random_resized_crop(x: torch.Tensor, scale=(0.2, 1.0), ratio=(3 / 4, 4 / 3), flip_p: float = 0.5,
                        generator: torch.Generator | None = None) -> torch.Tensor:
    """Crop a random area fraction ``U(scale)`` with log-uniform aspect ratio, resize back, maybe flip.

    One affine grid per image (bilinear, reflection padding); the crop centre is uniform
    over the positions that keep the crop inside the image.
    """
    _check_batch(x)
    _check_p("flip_p", flip_p)
    if not 0 < scale[0] <= scale[1] <= 1:
        raise ValueError(f"scale must satisfy 0 < scale[0] <= scale[1] <= 1, got {scale}")
    b = x.shape[0]
    dev = x.device
    area = _u(b, scale[0], scale[1], generator, "cpu")
    logr = _u(b, math.log(ratio[0]), math.log(ratio[1]), generator, "cpu")
    r = torch.exp(logr)
    sw = torch.sqrt(area * r).clamp(max=1.0)          # crop width as a fraction of the image
    sh = torch.sqrt(area / r).clamp(max=1.0)
    cx = (_u(b, -1, 1, generator, "cpu")) * (1 - sw)  # centre in normalised coords [-1, 1]
    cy = (_u(b, -1, 1, generator, "cpu")) * (1 - sh)
    flip = torch.where(_bern(b, flip_p, generator, "cpu"), -1.0, 1.0)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = sw * flip
    theta[:, 0, 2] = cx
    theta[:, 1, 1] = sh
    theta[:, 1, 2] = cy
    grid = F.affine_grid(theta.to(dev, x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def _grey(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] == 1:
        return x
    wts = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return (x * wts).sum(dim=1, keepdim=True)


def rgb_to_hsv(x: torch.Tensor) -> torch.Tensor:
    """RGB ``[B, 3, H, W]`` in [0, 1] -> HSV with hue, saturation and value in [0, 1]."""
    r, g, b = x.unbind(1)
    maxc, _ = x.max(dim=1)
    minc, _ = x.min(dim=1)
    delta = maxc - minc
    safe = torch.where(delta > 0, delta, torch.ones_like(delta))
    h = torch.where(maxc == r, (g - b) / safe % 6,
                    torch.where(maxc == g, (b - r) / safe + 2, (r - g) / safe + 4)) / 6.0
    h = torch.where(delta > 0, h, torch.zeros_like(h))
    s = torch.where(maxc > 0, delta / torch.where(maxc > 0, maxc, torch.ones_like(maxc)), torch.zeros_like(maxc))
    return torch.stack([h % 1.0, s, maxc], dim=1)


def hsv_to_rgb(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`rgb_to_hsv`."""
    h, s, v = x.unbind(1)
    k = torch.stack([(5 + h * 6) % 6, (3 + h * 6) % 6, (1 + h * 6) % 6], dim=1)       # [B, 3, H, W]
    f = (torch.minimum(k, 4 - k)).clamp(0, 1)
    return v.unsqueeze(1) - (v * s).unsqueeze(1) * f


def adjust_hue(x: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Rotate each image's hue by ``shift[b]`` turns (``shift`` in [-0.5, 0.5]); grey pixels stay grey."""
    _check_batch(x)
    if x.shape[1] != 3:
        raise ValueError(f"adjust_hue needs RGB images [B, 3, H, W], got {tuple(x.shape)}")
    hsv = rgb_to_hsv(x)
    h = (hsv[:, 0] + shift.to(x.device, x.dtype).view(-1, 1, 1)) % 1.0
    return hsv_to_rgb(torch.stack([h, hsv[:, 1], hsv[:, 2]], dim=1)).clamp(0, 1)


def color_jitter(x: torch.Tensor, brightness: float = 0.4, contrast: float = 0.4, saturation: float = 0.2,
                 p: float = 0.8, generator: torch.Generator | None = None, hue: float = 0.0) -> torch.Tensor:
    """Random brightness, contrast, saturation and hue (in that order), each image with probability ``p``.

    Factors are ``U(1 - s, 1 + s)``; values are clamped to [0, 1] after each step. The hue
    shift is ``U(-hue, hue)`` turns of the colour wheel (``hue`` in [0, 0.5]; 0 skips it and
    draws no random numbers, so the other factors stay as without hue).
    """
    if not 0.0 <= hue <= 0.5:
        raise ValueError(f"hue must be in [0, 0.5] (turns of the colour wheel), got {hue!r}")
    _check_batch(x)
    _check_p("p", p)
    b = x.shape[0]
    dev = x.device
    on = _bern(b, p, generator, "cpu").to(dev).view(b, 1, 1, 1)
    fb = _u(b, 1 - brightness, 1 + brightness, generator, "cpu").to(dev).view(b, 1, 1, 1)
    fc = _u(b, 1 - contrast, 1 + contrast, generator, "cpu").to(dev).view(b, 1, 1, 1)
    fs = _u(b, 1 - saturation, 1 + saturation, generator, "cpu").to(dev).view(b, 1, 1, 1)
    y = (x * fb).clamp(0, 1)
    mean = _grey(y).mean(dim=(1, 2, 3), keepdim=True)
    y = (mean + fc * (y - mean)).clamp(0, 1)
    if x.shape[1] == 3:
        g = _grey(y)
        y = (g + fs * (y - g)).clamp(0, 1)
        if hue > 0:
            y = adjust_hue(y, _u(b, -hue, hue, generator, "cpu"))
    return torch.where(on, y, x)


def random_grayscale(x: torch.Tensor, p: float = 0.2, generator: torch.Generator | None = None) -> torch.Tensor:
    """Replace an image by its luma (copied to every channel) with probability ``p``."""
    _check_batch(x)
    _check_p("p", p)
    if x.shape[1] == 1:
        return x
    on = _bern(x.shape[0], p, generator, "cpu").to(x.device).view(-1, 1, 1, 1)
    return torch.where(on, _grey(x).expand_as(x), x)


def random_solarize(x: torch.Tensor, threshold: float = 0.5, p: float = 0.1,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Invert pixels at or above ``threshold`` with probability ``p`` per image."""
    _check_batch(x)
    _check_p("p", p)
    on = _bern(x.shape[0], p, generator, "cpu").to(x.device).view(-1, 1, 1, 1)
    return torch.where(on & (x >= threshold), 1.0 - x, x)


def normalize(x: torch.Tensor, mean, std) -> torch.Tensor:
    """Per-channel standardisation."""
    m = torch.as_tensor(mean, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    s = torch.as_tensor(std, device=x.device, dtype=x.dtype).view(1, -1, 1, 1)
    return (x - m) / s


@dataclass(frozen=True)
class ViewAugment:
    """One random view of each image: crop (+flip), colour jitter, grayscale, solarize, normalise.

    Defaults follow the EB-JEPA CIFAR pipeline of the reference code except hue jitter, which is off
    (``hue=0``) by default; ``hue=0.1`` gives the reference's hue range.
    """

    scale: tuple[float, float] = (0.2, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_p: float = 0.5
    jitter_p: float = 0.8
    brightness: float = 0.4
    contrast: float = 0.4
    saturation: float = 0.2
    hue: float = 0.0
    gray_p: float = 0.2
    solarize_p: float = 0.1
    mean: tuple[float, ...] = (0.4914, 0.4822, 0.4465)
    std: tuple[float, ...] = (0.2023, 0.1994, 0.2010)

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        y = random_resized_crop(x, self.scale, self.ratio, self.flip_p, generator)
        if self.jitter_p > 0:
            y = color_jitter(y, self.brightness, self.contrast, self.saturation, self.jitter_p, generator,
                             hue=self.hue)
        if self.gray_p > 0:
            y = random_grayscale(y, self.gray_p, generator)
        if self.solarize_p > 0:
            y = random_solarize(y, 0.5, self.solarize_p, generator)
        return self.standardize(y)

    def standardize(self, x: torch.Tensor) -> torch.Tensor:
        """The deterministic part only (for test images and probes)."""
        return normalize(x, self.mean, self.std)


#: Views for MNIST digits in chapter 2: crops and contrast changes, no flips (a flipped 2 is not a 2).
MNIST_VIEWS = ViewAugment(scale=(0.3, 1.0), flip_p=0.0, jitter_p=0.8, brightness=0.4, contrast=0.4,
                          saturation=0.0, gray_p=0.0, solarize_p=0.0, mean=(0.1307,), std=(0.3081,))


def two_views(x: torch.Tensor, augment: ViewAugment, generator: torch.Generator | None = None):
    """Two independent random views ``(v1, v2)`` of the same batch."""
    return augment(x, generator), augment(x, generator)
