"""Training that shapes an energy, three ways: pull down only, contrastive, regularised (chapter 1).

Two learnable energies (:class:`MLPEnergy`, flexible; :class:`RegularisedLatentEnergy`, a learnable
ellipse with a regularised latent), the contrastive :func:`hinge_loss` with its
:func:`contrastive_negatives`, the yardsticks :func:`off_manifold_points` and :func:`energy_stats`,
and the loop :func:`train_energy_model` that trains either model with one of ``TRAIN_METHODS``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from ._common import _check_float, _check_int, _check_points, _one_thread
from .latent import free_energy_zero_temp
from .toy import EXTENT, ellipse_decoder, latent_grid, make_grid

__all__ = ["TRAIN_METHODS", "MLPEnergy", "RegularisedLatentEnergy", "hinge_loss", "contrastive_negatives",
           "off_manifold_points", "energy_stats", "TrainResult", "train_energy_model"]

#: Training methods of :func:`train_energy_model`.
TRAIN_METHODS = ("pull_down", "contrastive", "regularised")


class MLPEnergy(nn.Module):
    """A flexible energy ``E_theta(y) = ||MLP(y)||^2 >= 0`` on the plane (chapter 1).

    Flexible enough to be made low everywhere, which is what "pull down only" training
    does. The squared norm of a small vector output keeps gradients alive at low energy
    (a softplus head saturates there), and it is zero only where every component
    vanishes, so it does not draw spurious zero-energy lines across the plane.

    Args:
        hidden: width of the two hidden layers.
        out_dim: size of the vector whose squared norm is the energy.
    """

    def __init__(self, hidden: int = 64, out_dim: int = 4):
        super().__init__()
        _check_int(hidden, "hidden")
        _check_int(out_dim, "out_dim")
        self.net = nn.Sequential(nn.Linear(2, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, out_dim))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """``y: [N, 2]`` -> energies ``[N]``."""
        return (self.net(_check_points(y)) ** 2).sum(-1)


class RegularisedLatentEnergy(nn.Module):
    """A learnable ellipse with a 2-D latent and a regulariser on it (chapter 1).

    ``E_theta(y, z) = ||y - (c + A z)||^2 + lam * (||z|| - 1)^2`` with ``z`` in the plane.
    The free energy ``F(y) = min_z E_theta(y, z)`` is computed exactly along the radius
    (the energy is quadratic in ``||z||``) and on a grid of ``n_latent`` directions.
    ``lam = 0`` lets every ``y`` be decoded exactly: the energy is flat (zero everywhere).
    Large ``lam`` confines ``z`` to the unit circle: the low-energy set is one curve.
    """

    def __init__(self, lam: float = 5.0, n_latent: int = 48, init_radius: float = 0.5):
        super().__init__()
        self.lam = _check_float(lam, "lam", allow_equal=True)
        self.n_latent = _check_int(n_latent, "n_latent", 2)
        self.A = nn.Parameter(_check_float(init_radius, "init_radius") * torch.eye(2))
        self.c = nn.Parameter(torch.zeros(2))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """``y: [N, 2]`` -> free energies ``[N]``."""
        d = _check_points(y) - self.c                                  # [N, 2]
        u = ellipse_decoder(latent_grid(self.n_latent), (1.0, 1.0))    # [K, 2] unit directions
        au = u @ self.A.T                                              # [K, 2] decoded directions
        r = ((d @ au.T) + self.lam) / ((au ** 2).sum(-1) + self.lam + 1e-12)   # [N, K] best radius
        r = r.clamp(min=0.0)
        resid = d.unsqueeze(1) - r.unsqueeze(-1) * au                 # [N, K, 2]
        energies = (resid ** 2).sum(-1) + self.lam * (r - 1.0) ** 2
        return energies.min(dim=1).values


def hinge_loss(e_pos: torch.Tensor, e_neg: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """Contrastive hinge: ``mean E(y) + mean max(0, margin - E(y_neg))`` (chapter 1).

    Args:
        e_pos: energies of data points ``[N]`` (pulled down).
        e_neg: energies of negative samples ``[M]`` (pushed up until they reach ``margin``).
        margin: ``m > 0``.

    Returns:
        Scalar tensor.
    """
    _check_float(margin, "margin")
    return e_pos.mean() + torch.relu(margin - e_neg).mean()


def off_manifold_points(n: int, min_dist: float = 0.5, extent: float = EXTENT) -> torch.Tensor:
    """Grid points at least ``min_dist`` away from the ellipse (probe points for "off-manifold" energy).

    Args:
        n: grid points per side.
        min_dist: minimum Euclidean distance to the ellipse, ``> 0``.

    Returns:
        ``[M, 2]``.
    """
    _check_float(min_dist, "min_dist")
    y, _, _ = make_grid(n, extent)
    dist2 = free_energy_zero_temp(y, 512)
    return y[dist2 >= min_dist ** 2]


def energy_stats(energy_fn: Callable[[torch.Tensor], torch.Tensor], y_data: torch.Tensor,
                 y_off: torch.Tensor) -> dict[str, float]:
    """How an energy separates data from the rest of the plane.

    Returns:
        dict with ``e_data`` (mean energy on data), ``e_off`` (mean energy on off-manifold
        points), ``gap = e_off - e_data`` and ``spread`` (std of the energy over ``y_off``
        and ``y_data`` together; close to 0 for a flat, collapsed energy).
    """
    with torch.no_grad():
        e_data, e_off = energy_fn(_check_points(y_data, "y_data")), energy_fn(_check_points(y_off, "y_off"))
    both = torch.cat([e_data, e_off])
    return {"e_data": e_data.mean().item(), "e_off": e_off.mean().item(),
            "gap": (e_off.mean() - e_data.mean()).item(), "spread": both.std().item()}


def contrastive_negatives(y_data: torch.Tensor, generator: torch.Generator | None = None,
                          jitter: float = 0.5) -> torch.Tensor:
    """Negative samples for contrastive training: as many as data points (chapter 1).

    Half are uniform over ``[-EXTENT, EXTENT]^2``; half are data points moved by
    ``N(0, jitter^2)`` noise, so that the region right next to the data (including the
    ellipse's inside) also gets pushed up. Some negatives land on the ellipse anyway:
    contrastive training only shapes the energy where its negatives fall.

    Args:
        y_data: ``[N, 2]``.
        generator: optional ``torch.Generator``.
        jitter: noise std of the jittered half, ``> 0``.

    Returns:
        ``[N, 2]``.
    """
    y_data = _check_points(y_data, "y_data")
    _check_float(jitter, "jitter")
    n = y_data.shape[0]
    n_uniform = n // 2
    uniform = (2 * torch.rand(n_uniform, 2, generator=generator) - 1) * EXTENT
    jittered = y_data[n_uniform:] + jitter * torch.randn(n - n_uniform, 2, generator=generator)
    return torch.cat([uniform, jittered])


@dataclass
class TrainResult:
    """What :func:`train_energy_model` returns: the trained model and per-step curves."""

    method: str
    model: nn.Module
    history: dict[str, list[float]] = field(default_factory=dict)

    def energy(self, y: torch.Tensor) -> torch.Tensor:
        """Trained energy (free energy for the latent model) of points ``y: [N, 2]`` -> ``[N]``."""
        with torch.no_grad():
            return self.model(y)


def train_energy_model(method: str, y_data: torch.Tensor, steps: int, n_latent: int = 48, margin: float = 1.0,
                       lam: float = 5.0, lr: float | None = None, seed: int = 0) -> TrainResult:
    """Train a small energy model on the toy world, three ways (chapter 1).

    * ``"pull_down"``: an :class:`MLPEnergy`, loss ``mean E(y)`` on data only. Nothing
      stops the energy from going down everywhere: it becomes flat (collapse).
    * ``"contrastive"``: the same MLP, :func:`hinge_loss` with fresh
      :func:`contrastive_negatives` each step.
    * ``"regularised"``: a :class:`RegularisedLatentEnergy` (``lam * (||z|| - 1)^2`` on a
      2-D latent) trained with ``mean F(y)`` on data only; the regulariser, not negatives,
      limits the volume of low energy.

    Args:
        method: one of ``TRAIN_METHODS``.
        y_data: data ``[N, 2]`` (e.g. :func:`~ebjepa_mini.energy.toy.sample_ellipse`).
        steps: optimisation steps (``preset.energy.train_steps``), ``>= 1``.
        n_latent: latent directions for the regularised model.
        margin: hinge margin for ``"contrastive"``.
        lam: regulariser weight for ``"regularised"``, ``>= 0``.
        lr: Adam step size; ``None`` picks 0.01 (MLP) or 0.05 (latent model).
        seed: seeds the initial weights and the negatives.

    Returns:
        :class:`TrainResult` with history keys ``loss``, ``e_data``, ``e_off``.
    """
    if method not in TRAIN_METHODS:
        raise ValueError(f"method must be one of {TRAIN_METHODS}, got {method!r}")
    y_data = _check_points(y_data, "y_data")
    _check_int(steps, "steps")
    _check_float(margin, "margin")
    _check_float(lam, "lam", allow_equal=True)
    if lr is not None:
        _check_float(lr, "lr")
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = RegularisedLatentEnergy(lam, n_latent) if method == "regularised" else MLPEnergy()
    opt = torch.optim.Adam(model.parameters(), lr=lr or (0.05 if method == "regularised" else 0.01))
    y_off = off_manifold_points(15)
    history: dict[str, list[float]] = {"loss": [], "e_data": [], "e_off": []}
    with _one_thread():
        for _ in range(steps):
            e_pos = model(y_data)
            if method == "contrastive":
                loss = hinge_loss(e_pos, model(contrastive_negatives(y_data, gen)), margin)
            else:
                loss = e_pos.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            history["loss"].append(loss.item())
            history["e_data"].append(e_pos.mean().item())
            with torch.no_grad():
                history["e_off"].append(model(y_off).mean().item())
    return TrainResult(method, model, history)
