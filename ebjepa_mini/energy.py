"""Toy energy-based models on a 2-D world: energies, free energies, inference, training.

Taught in chapter 1 (energy-based models). One toy world is used throughout: points
``y = (y1, y2)`` on an ellipse with radii ``ELLIPSE_RADII``, and a conditional "horn"
in which an input ``x`` in ``[0, 1]`` shrinks and turns the ellipse. A latent angle
``z`` says where on the ellipse a point sits; the decoder ``y_tilde(z)`` draws it.

Reading order: toy world -> latent energy ``E(y, z)`` -> free energies (zero
temperature and relaxed with inverse temperature ``beta``) -> inference by gradient
descent -> training that shapes the energy (pull-down only, contrastive, regularised)
-> the paper's unified JEPA energy on a toy linear encoder.

All functions take and return ``torch`` tensors on the CPU; points are ``y: [N, 2]``.

Names in code and in the book differ on purpose: the code calls the latent ``z`` and the number
of latent values ``K`` (``n_latent``), while chapter 1 writes them ``ζ`` and ``n_ζ``, keeping
``z`` for representations and ``K`` for the rollout length (see :doc:`/book/notation`).
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

__all__ = [
    "ELLIPSE_RADII", "EXTENT", "TRAIN_METHODS",
    "latent_grid", "ellipse_decoder", "horn_decoder", "sample_ellipse", "sample_horn", "make_grid",
    "latent_energy", "free_energy_zero_temp", "relaxed_min", "free_energy",
    "infer_latent", "infer_y",
    "MLPEnergy", "RegularisedLatentEnergy", "hinge_loss", "contrastive_negatives",
    "off_manifold_points", "energy_stats",
    "TrainResult", "train_energy_model",
    "jepa_energy", "train_toy_jepa",
]

#: Radii (a, b) of the toy ellipse: y_tilde(z) = (a cos z, b sin z).
ELLIPSE_RADII = (1.6, 0.8)
#: Half-width of the square [-EXTENT, EXTENT]^2 on which energies are drawn.
EXTENT = 2.5
#: Training methods of :func:`train_energy_model`.
TRAIN_METHODS = ("pull_down", "contrastive", "regularised")
_CHUNK = 1 << 21   # points x latents evaluated at once by the grid minimum (keeps memory near 50 MB)


# ---------------------------------------------------------------- helpers
@contextmanager
def _one_thread():
    """Run tiny-tensor loops on one CPU thread (restored afterwards).

    The toy models have a few thousand parameters: waking extra threads for every small op
    costs more than it saves, and on a busy 2-core machine it made training 10-30x slower.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ---------------------------------------------------------------- argument checks
def _check_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _check_float(value, name: str, minimum: float = 0.0, allow_equal: bool = False,
                 allow_inf: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
    ok = ok and (value >= minimum if allow_equal else value > minimum)
    ok = ok and (allow_inf or not math.isinf(value))
    if not ok:
        rel = ">=" if allow_equal else ">"
        extra = " (math.inf allowed)" if allow_inf else ""
        raise ValueError(f"{name} must be a finite number {rel} {minimum}{extra}, got {value!r}")
    return float(value)


def _check_points(y, name: str = "y") -> torch.Tensor:
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape [N, 2], got {type(y).__name__}")
    if y.dim() != 2 or y.shape[1] != 2:
        raise ValueError(f"{name} must have shape [N, 2] (points in the plane), got {tuple(y.shape)}")
    if not y.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {y.dtype}")
    return y


def _check_x(x, n: int) -> torch.Tensor | None:
    if x is None:
        return None
    x = torch.as_tensor(x, dtype=torch.get_default_dtype())
    if x.dim() == 0:
        x = x.expand(n)
    if x.shape != (n,):
        raise ValueError(f"x must be a scalar or have shape [N] = [{n}] (one input per point), got {tuple(x.shape)}")
    if (x < 0).any() or (x > 1).any():
        raise ValueError("x (the horn's input) must lie in [0, 1]")
    return x


# ---------------------------------------------------------------- the toy world
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


# ---------------------------------------------------------------- energies and free energies
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


# ---------------------------------------------------------------- learnable energies and training
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
        y_data: data ``[N, 2]`` (e.g. :func:`sample_ellipse`).
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


# ---------------------------------------------------------------- the paper's unified energy
def jepa_energy(f: Callable, g: Callable | None, x: torch.Tensor, x_prime: torch.Tensor,
                a: torch.Tensor | None = None, q: Callable | None = None) -> torch.Tensor:
    """The unified JEPA energy ``E(x, x', a) = ||g(f(x), q(a)) - f(x')||^2`` (paper eq. 1; chapter 1).

    ``L_pred`` is the squared error summed over all non-batch dimensions. The three
    instantiations: image (``g = None``: identity predictor, paper eq. 2), video (``g``
    maps the encoded context frames to the next one, paper eq. 3), action-conditioned
    (``g(z, u)`` with ``u = q(a)``, ``q = None`` meaning the identity, paper eq. 4).

    Args:
        f: encoder, ``x: [B, ...] -> z: [B, ...]`` (e.g. a toy ``nn.Linear``).
        g: predictor; ``None`` is the identity. Called as ``g(z)`` without actions, ``g(z, u)`` with.
        x: context ``[B, ...]``.
        x_prime: target ``[B, ...]``; ``g(f(x), .)`` must have the shape of ``f(x_prime)``.
        a: optional actions ``[B, ...]``.
        q: optional action encoder (only with ``a``); ``None`` is the identity.

    Returns:
        E: ``[B]``, one energy per (x, x', a).
    """
    if not callable(f):
        raise TypeError(f"f (the encoder) must be callable, got {type(f).__name__}")
    if g is not None and not callable(g):
        raise TypeError(f"g (the predictor) must be callable or None, got {type(g).__name__}")
    for name, t in (("x", x), ("x_prime", x_prime)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor [B, ...], got {type(t).__name__}")
    if x.shape[0] != x_prime.shape[0]:
        raise ValueError(f"x and x_prime need the same batch size B, got {x.shape[0]} and {x_prime.shape[0]}")
    if q is not None and a is None:
        raise ValueError("q (the action encoder) was given without actions a; pass a, or q=None")
    if a is not None and g is None:
        raise ValueError("actions a need a predictor g(z, u); g=None (identity) cannot use them")
    z, target = f(x), f(x_prime)
    if g is None:
        pred = z
    elif a is None:
        pred = g(z)
    else:
        pred = g(z, a if q is None else q(a))
    if pred.shape != target.shape:
        raise ValueError(f"prediction shape {tuple(pred.shape)} differs from target f(x_prime) "
                         f"shape {tuple(target.shape)}")
    return ((pred - target) ** 2).reshape(pred.shape[0], -1).sum(-1)


def train_toy_jepa(x: torch.Tensor, x_prime: torch.Tensor, steps: int, dim: int = 2, lr: float = 0.5,
                   reg: Callable[[torch.Tensor], torch.Tensor] | None = None, lam: float = 0.0,
                   seed: int = 0) -> dict[str, list[float]]:
    """Train a toy linear encoder on pairs with ``L = mean E(x, x') + lam * R(f(x))`` (paper eq. 5; chapter 1).

    The predictor is the identity (the image instantiation). With ``reg=None`` the only
    way down is to shrink the encoder: every pair, related or not, gets zero energy
    (complete collapse). Chapter 2 passes a regulariser from ``ebjepa_mini.regularizers``.

    Args:
        x, x_prime: two views ``[N, D_in]``.
        steps: SGD steps ``>= 1``.
        dim: embedding dimension ``>= 1``.
        lr: SGD step size ``> 0``.
        reg: optional ``R(z: [N, dim]) -> scalar``.
        lam: weight of ``reg``, ``>= 0``.
        seed: seeds the encoder's initial weights.

    Returns:
        history with ``e_pos`` (mean energy of true pairs), ``e_neg`` (mean energy of
        mismatched pairs), ``z_std`` (mean per-dimension std of ``f(x)``), ``loss``.
    """
    for name, t in (("x", x), ("x_prime", x_prime)):
        if not isinstance(t, torch.Tensor) or t.dim() != 2:
            raise ValueError(f"{name} must be a tensor [N, D_in]")
    if x.shape != x_prime.shape:
        raise ValueError(f"x and x_prime must have the same shape, got {tuple(x.shape)} and {tuple(x_prime.shape)}")
    _check_int(steps, "steps")
    _check_int(dim, "dim")
    _check_float(lr, "lr")
    _check_float(lam, "lam", allow_equal=True)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        f = nn.Linear(x.shape[1], dim)
        perm = torch.randperm(x.shape[0])
    opt = torch.optim.SGD(f.parameters(), lr=lr)
    hist: dict[str, list[float]] = {"loss": [], "e_pos": [], "e_neg": [], "z_std": []}
    with _one_thread():
        for _ in range(steps):
            e_pos = jepa_energy(f, None, x, x_prime).mean()
            loss = e_pos + (lam * reg(f(x)) if reg is not None and lam > 0 else 0.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                hist["loss"].append(float(loss))
                hist["e_pos"].append(e_pos.item())
                hist["e_neg"].append(jepa_energy(f, None, x, x_prime[perm]).mean().item())
                hist["z_std"].append(f(x).std(0).mean().item())
    return hist
