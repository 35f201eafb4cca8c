"""The toy world of chapter 1: an ellipse, a conditional "horn", their decoders, samples and grids.

Points ``y = (y1, y2)`` lie on an ellipse with radii ``ELLIPSE_RADII``; a latent angle ``z`` says
where on the ellipse a point sits and the decoder ``y_tilde(z)`` (:func:`ellipse_decoder`) draws it.
The conditional "horn" (:func:`horn_decoder`) lets an input ``x`` in ``[0, 1]`` shrink and turn the
ellipse. :func:`latent_grid` is the set of latent values the free energies sweep, :func:`make_grid`
the square of points on which every energy is drawn.
"""
from __future__ import annotations

import math

import torch

from ._common import _check_float, _check_int

__all__ = ["ELLIPSE_RADII", "EXTENT", "latent_grid", "ellipse_decoder", "horn_decoder", "sample_ellipse",
           "sample_horn", "make_grid"]

#: Radii (a, b) of the toy ellipse: y_tilde(z) = (a cos z, b sin z).
ELLIPSE_RADII = (1.6, 0.8)
#: Half-width of the square [-EXTENT, EXTENT]^2 on which energies are drawn.
EXTENT = 2.5


def latent_grid(n_latent: int) -> torch.Tensor:
    """The latent values swept by the free energy: ``n_latent`` angles, step ``2*pi/n_latent``.

    Args:
        n_latent: number of latent values K (``preset.energy.n_latent``), ``>= 2``.

    Returns:
        z: ``[K]`` angles in ``[0, 2*pi)``.
    """
    _check_int(n_latent, "n_latent", 2)
    return torch.arange(n_latent, dtype=torch.get_default_dtype()) * (2 * math.pi / n_latent)


def ellipse_decoder(z: torch.Tensor, radii: tuple[float, float] = ELLIPSE_RADII) -> torch.Tensor:
    """Decoder of the toy world, ``y_tilde(z) = (a cos z, b sin z)`` (chapter 1).

    Args:
        z: latent angles, any shape ``[...]``.
        radii: ``(a, b)``, both ``> 0``.

    Returns:
        ``[..., 2]`` points on the ellipse.
    """
    a, b = (_check_float(r, "radii") for r in radii)
    z = torch.as_tensor(z, dtype=torch.get_default_dtype())
    return torch.stack([a * torch.cos(z), b * torch.sin(z)], dim=-1)


def horn_decoder(x: torch.Tensor, z: torch.Tensor, radii: tuple[float, float] = ELLIPSE_RADII) -> torch.Tensor:
    """Conditional decoder ``y_tilde(x, z)``: the ellipse scaled by ``0.4 + 0.6 x`` and turned by ``(1 - x) pi/2``.

    At ``x = 1`` it is the unconditional ellipse; stacked along ``x`` the ellipses form a horn.

    Args:
        x: inputs in ``[0, 1]``, shape ``[N]`` (or broadcastable against ``z``).
        z: latent angles, shape ``[N]`` or ``[N, K]``.
        radii: ``(a, b)`` of the ``x = 1`` ellipse.

    Returns:
        ``[..., 2]`` with the broadcast shape of ``x`` and ``z``.
    """
    x = torch.as_tensor(x, dtype=torch.get_default_dtype())
    z = torch.as_tensor(z, dtype=torch.get_default_dtype())
    if z.dim() == x.dim() + 1:
        x = x.unsqueeze(-1)
    p = ellipse_decoder(z, radii)
    scale, angle = 0.4 + 0.6 * x, (1.0 - x) * (math.pi / 2)
    c, s = torch.cos(angle), torch.sin(angle)
    return torch.stack([scale * (c * p[..., 0] - s * p[..., 1]), scale * (s * p[..., 0] + c * p[..., 1])], dim=-1)


def sample_ellipse(n: int, noise: float = 0.05, generator: torch.Generator | None = None) -> torch.Tensor:
    """Training data of the toy world: ``n`` points on the ellipse plus Gaussian noise (chapter 1).

    Args:
        n: number of points (``preset.energy.n_points``), ``>= 1``.
        noise: standard deviation of the noise, ``>= 0``.
        generator: optional seeded ``torch.Generator``.

    Returns:
        y: ``[n, 2]``.
    """
    _check_int(n, "n")
    _check_float(noise, "noise", allow_equal=True)
    z = 2 * math.pi * torch.rand(n, generator=generator)
    return ellipse_decoder(z) + noise * torch.randn(n, 2, generator=generator)


def sample_horn(n: int, noise: float = 0.05, generator: torch.Generator | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Conditional toy data: ``x ~ U[0, 1]`` and ``y`` on the horn's ellipse for that ``x``.

    Returns:
        ``(x, y)`` with ``x: [n]`` and ``y: [n, 2]``.
    """
    _check_int(n, "n")
    _check_float(noise, "noise", allow_equal=True)
    x = torch.rand(n, generator=generator)
    z = 2 * math.pi * torch.rand(n, generator=generator)
    return x, horn_decoder(x, z) + noise * torch.randn(n, 2, generator=generator)


def make_grid(n: int, extent: float = EXTENT) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A square grid of points for energy heat-maps.

    Args:
        n: points per side (``preset.energy.grid``), ``>= 2``.
        extent: the grid covers ``[-extent, extent]^2``.

    Returns:
        ``(y, y1, y2)``: ``y: [n*n, 2]`` in row-major order (``y2`` varies slowest),
        ``y1, y2: [n]`` the axis values. ``F(y).reshape(n, n)`` is ready for ``pcolormesh(y1, y2, .)``.
    """
    _check_int(n, "n", 2)
    _check_float(extent, "extent")
    axis = torch.linspace(-extent, extent, n)
    g2, g1 = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([g1.reshape(-1), g2.reshape(-1)], dim=1), axis, axis

