"""Latent-variable energies, free energies and inference by energy minimisation (chapter 1).

``E(y, z) = ||y - y_tilde(z)||^2`` (:func:`latent_energy`) scores a point ``y`` with a latent ``z``.
Minimising over ``z`` gives the zero-temperature free energy (:func:`free_energy_zero_temp`);
the relaxed free energy (:func:`free_energy`, built on the soft minimum :func:`relaxed_min`)
replaces the minimum by ``-1/beta log mean exp(-beta E)``. Inference is minimisation too: of
``E(y, z)`` over ``z`` (:func:`infer_latent`) or of ``F_beta(y)`` over ``y`` (:func:`infer_y`),
by gradient descent.
"""
from __future__ import annotations

import math

import torch

from ._common import _check_float, _check_int, _check_points, _check_x, _one_thread
from .toy import ellipse_decoder, horn_decoder, latent_grid

__all__ = ["latent_energy", "free_energy_zero_temp", "relaxed_min", "free_energy", "infer_latent", "infer_y"]

_CHUNK = 1 << 21   # points x latents evaluated at once by the grid minimum (keeps memory near 50 MB)


def latent_energy(y: torch.Tensor, z: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
    """Latent-variable energy ``E(y, z) = ||y - y_tilde(z)||^2`` (chapter 1).

    Args:
        y: points ``[N, 2]``.
        z: latent values, ``[K]`` (the same K for every point) or ``[N, K]``.
        x: optional horn inputs ``[N]`` (or a scalar); then ``y_tilde = horn_decoder(x, z)``.

    Returns:
        E: ``[N, K]``, one energy per point and latent value.
    """
    y = _check_points(y)
    z = torch.as_tensor(z, dtype=y.dtype)
    if z.dim() == 1:
        z = z.expand(y.shape[0], -1)
    if z.dim() != 2 or z.shape[0] != y.shape[0]:
        raise ValueError(f"z must have shape [K] or [N, K] with N = {y.shape[0]}, got {tuple(z.shape)}")
    x = _check_x(x, y.shape[0])
    y_tilde = ellipse_decoder(z) if x is None else horn_decoder(x, z)
    return ((y.unsqueeze(1) - y_tilde) ** 2).sum(-1)


def free_energy_zero_temp(y: torch.Tensor, n_latent: int = 48, x: torch.Tensor | None = None,
                          return_argmin: bool = False):
    """Zero-temperature free energy ``F_inf(y) = min_z E(y, z)`` over a latent grid (chapter 1).

    For the ellipse this is the squared distance from ``y`` to the ellipse, up to the
    grid's resolution.

    Args:
        y: points ``[N, 2]``.
        n_latent: number of latent values swept (``preset.energy.n_latent``).
        x: optional horn inputs ``[N]`` or a scalar.
        return_argmin: also return the minimising latent ``z_check: [N]``.

    Returns:
        F: ``[N]`` (and ``z_check: [N]`` if ``return_argmin``).
    """
    z = latent_grid(n_latent)
    y = _check_points(y)
    x = _check_x(x, y.shape[0])
    rows = max(1, _CHUNK // n_latent)             # bound the [rows, K, 2] intermediate for dense sweeps
    values, idx = [], []
    for start in range(0, y.shape[0], rows):
        xs = None if x is None else x[start:start + rows]
        v, i = latent_energy(y[start:start + rows], z, xs).min(dim=1)
        values.append(v)
        idx.append(i)
    values, idx = torch.cat(values), torch.cat(idx)
    return (values, z[idx]) if return_argmin else values


def relaxed_min(energies: torch.Tensor, beta: float) -> torch.Tensor:
    """Soft minimum over the last dimension: ``-1/beta * log(mean(exp(-beta * E)))``.

    Computed with ``logsumexp`` (in float64, so that both extremes are accurate):
    ``beta -> inf`` gives ``min E``; ``beta -> 0`` gives ``mean E``; in between it lies
    between the two and decreases as ``beta`` grows.

    Args:
        energies: ``[..., K]``.
        beta: inverse temperature, ``> 0``; ``math.inf`` returns the exact minimum.

    Returns:
        ``[...]``, same dtype as ``energies``.
    """
    beta = _check_float(beta, "beta", allow_inf=True)
    if not isinstance(energies, torch.Tensor) or energies.dim() < 1 or energies.shape[-1] < 1:
        raise ValueError("energies must be a tensor [..., K] with K >= 1 latent values")
    if math.isinf(beta):
        return energies.min(dim=-1).values
    e = energies.double()
    log_mean = torch.logsumexp(-beta * e, dim=-1) - math.log(e.shape[-1])
    return (-log_mean / beta).to(energies.dtype)


def free_energy(y: torch.Tensor, beta: float, n_latent: int = 48, x: torch.Tensor | None = None) -> torch.Tensor:
    """Relaxed free energy ``F_beta(y) = -1/beta log( 1/K sum_z exp(-beta E(y, z)) )`` (chapter 1).

    ``beta`` is the inverse temperature: large ``beta`` -> :func:`free_energy_zero_temp`;
    small ``beta`` -> the mean energy over the latent grid.

    Args:
        y: points ``[N, 2]``.
        beta: inverse temperature ``> 0`` (``math.inf`` allowed).
        n_latent: number of latent values K.
        x: optional horn inputs ``[N]`` or a scalar.

    Returns:
        F: ``[N]``.
    """
    _check_float(beta, "beta", allow_inf=True)
    return relaxed_min(latent_energy(y, latent_grid(n_latent), x), beta)



# ---------------------------------------------------------------- inference = energy minimisation
def infer_latent(y: torch.Tensor, z0: torch.Tensor, steps: int, lr: float = 0.1,
                 x: torch.Tensor | None = None) -> torch.Tensor:
    """Inference of the latent: gradient descent on ``z`` of ``E(y, z)`` (chapter 1).

    Plain gradient descent can stop in a local minimum (e.g. the far side of the
    ellipse for points near its short axis); the grid search of
    :func:`free_energy_zero_temp` cannot.

    Args:
        y: points ``[N, 2]``.
        z0: initial latents ``[N]``.
        steps: gradient steps, ``>= 1``.
        lr: step size ``> 0``.
        x: optional horn inputs.

    Returns:
        z_path: ``[steps + 1, N]``, the latent after each step (row 0 is ``z0``).
    """
    y = _check_points(y)
    _check_int(steps, "steps")
    _check_float(lr, "lr")
    z = torch.as_tensor(z0, dtype=y.dtype).detach().clone()
    if z.shape != (y.shape[0],):
        raise ValueError(f"z0 must have shape [N] = [{y.shape[0]}], got {tuple(z.shape)}")
    path = [z.clone()]
    with _one_thread():
        for _ in range(steps):
            z.requires_grad_(True)
            energy = latent_energy(y, z.unsqueeze(1), x).sum()
            (grad,) = torch.autograd.grad(energy, z)
            z = (z - lr * grad).detach()
            path.append(z.clone())
    return torch.stack(path)


def infer_y(y0: torch.Tensor, steps: int, lr: float = 0.1, beta: float = math.inf, n_latent: int = 48,
            x: torch.Tensor | None = None) -> torch.Tensor:
    """Inference of ``y``: gradient descent on ``y`` of the free energy ``F_beta(y)`` (chapter 1).

    With ``beta = inf`` each step moves ``y`` straight towards its closest decoded point,
    so the path ends on the ellipse.

    Args:
        y0: starting points ``[N, 2]``.
        steps: gradient steps, ``>= 1``.
        lr: step size ``> 0`` (``0.5`` jumps onto the closest point in one step for ``beta = inf``).
        beta: inverse temperature of the free energy being descended.
        n_latent: latent grid size K.
        x: optional horn inputs.

    Returns:
        y_path: ``[steps + 1, N, 2]``.
    """
    y = _check_points(y0, "y0").detach().clone()
    _check_int(steps, "steps")
    _check_float(lr, "lr")
    _check_float(beta, "beta", allow_inf=True)
    path = [y.clone()]
    with _one_thread():
        for _ in range(steps):
            y.requires_grad_(True)
            (grad,) = torch.autograd.grad(free_energy(y, beta, n_latent, x).sum(), y)
            y = (y - lr * grad).detach()
            path.append(y.clone())
    return torch.stack(path)

