"""Regularisers that keep a joint-embedding model from collapsing.

Every function here is a plain function of tensors returning a scalar loss (or one
statistic per column), so the chapters can derive a formula and then call exactly the
code that trains the models. Composite losses return ``(total, terms)`` where
``terms`` is a dict of named, detached scalars for plots and widgets.

Taught in chapter 2 (collapse) and chapter 3 (VICReg vs SIGReg); temporal similarity
and the inverse-dynamics loss appear in chapter 5 (world models).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

__all__ = [
    "vicreg_variance",
    "vicreg_covariance",
    "epps_pulley",
    "sigreg",
    "temporal_similarity",
    "inverse_dynamics_loss",
    "random_slices",
    "two_view_loss",
    "EPPS_PULLEY_KNOTS",
    "epps_pulley_gaussian_mean",
    "WEIGHT_NAMES",
    "check_weights",
    "RegularizerWeights",
    "WorldWeights",
]

#: The one name of each loss weight, everywhere (losses, weight classes, presets, loss terms, widgets):
#: the image objective uses the first four, the world model's eq. 13 the middle two and the last two.
WEIGHT_NAMES = ("invariance", "variance", "covariance", "sigreg", "similarity", "idm")

#: Epps-Pulley quadrature: 10 equally spaced knots on [-3, 3] (EB-JEPA convention; t = 0 is not a knot).
EPPS_PULLEY_KNOTS = (-3.0, 3.0, 10)


def _check_matrix(z: torch.Tensor, name: str = "z", min_rows: int = 2) -> None:
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape [N, D], got {type(z).__name__}")
    if z.dim() != 2:
        raise ValueError(f"{name} must have shape [N, D] (2 dims), got shape {tuple(z.shape)}; "
                         f"flatten extra dims first, e.g. {name}.reshape(-1, {name}.shape[-1])")
    if z.shape[0] < min_rows:
        raise ValueError(f"{name} needs N >= {min_rows} samples (rows), got N = {z.shape[0]}")
    if z.shape[1] < 1:
        raise ValueError(f"{name} needs D >= 1 dimensions (columns), got D = {z.shape[1]}")
    if not z.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {z.dtype}")


def _check_sequence(z: torch.Tensor, name: str) -> None:
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape [T, N, D], got {type(z).__name__}")
    if z.dim() != 3:
        raise ValueError(f"{name} must have shape [T, N, D] (3 dims), got shape {tuple(z.shape)}")
    if not z.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {z.dtype}")


def check_weights(allowed: tuple[str, ...] = WEIGHT_NAMES, **weights) -> None:
    """The one check of loss weights: each name must be one of ``allowed`` and each value a finite
    number ``>= 0`` (not a bool); raises ``ValueError`` naming the weight and what it may be."""
    for name, w in weights.items():
        if name not in allowed:
            raise ValueError(f"unknown weight {name!r}; allowed weights are: {', '.join(allowed)}")
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not math.isfinite(w) or w < 0:
            raise ValueError(f"{name} must be a finite number >= 0 (0 switches the term off), got {w!r}")


@dataclass
class RegularizerWeights:
    """Weights of the image objective, :func:`two_view_loss` (chapters 2-3; 0 switches a term off).

    Two weight classes for two objectives: this one for the two-view image loss, :class:`WorldWeights`
    for eq. 13; both use the one set of names :data:`WEIGHT_NAMES` and the one check :func:`check_weights`.

    ``RegularizerWeights()`` is the unregularised objective; VICReg is
    ``RegularizerWeights(variance=1, covariance=80)`` and SIGReg ``RegularizerWeights(sigreg=10)``.
    """

    invariance: float = 1.0
    variance: float = 0.0
    covariance: float = 0.0
    sigreg: float = 0.0

    def __post_init__(self):
        check_weights(**asdict(self))

    @property
    def label(self) -> str:
        """Short name for plots: ``"none"``, ``"variance"``, ``"vicreg"``, ``"sigreg"``, ..."""
        on = [k for k in ("variance", "covariance", "sigreg") if getattr(self, k) > 0]
        if not on:
            return "none"
        if on == ["variance", "covariance"]:
            return "vicreg"
        return "+".join(on)


@dataclass(frozen=True)
class WorldWeights:
    """Coefficients of paper eq. 13, the world model's loss (chapter 5; EB-JEPA: α 16, β 8, δ 12, ω 1).

    Here rather than in :mod:`ebjepa_mini.world` because :class:`~ebjepa_mini.presets.WorldSettings`
    holds one, and presets sit below the models.
    """

    variance: float = 16.0     # α, variance hinge
    covariance: float = 8.0    # β, covariance
    similarity: float = 12.0   # δ, temporal similarity
    idm: float = 1.0           # ω, inverse dynamics

    def __post_init__(self):
        check_weights(**asdict(self))


def vicreg_variance(z: torch.Tensor, gamma: float = 1.0, eps: float = 1e-4) -> torch.Tensor:
    """VICReg variance term: a hinge on each dimension's standard deviation (paper eq. 6).

    .. math:: L_{var}(Z) = \\frac{1}{D}\\sum_{j=1}^{D} \\max\\bigl(0,\\ \\gamma - \\sqrt{\\mathrm{Var}(Z_{:,j}) + \\epsilon}\\bigr)

    Args:
        z: embeddings ``[N, D]`` (N >= 2 samples).
        gamma: target standard deviation (margin), ``> 0``; 1.0 everywhere in EB-JEPA.
        eps: added to the (unbiased, N-1) variance inside the square root, ``>= 0``.

    Returns:
        Scalar tensor in ``[0, gamma]``: ``gamma`` for a constant batch, 0 when every std >= gamma.

    Prevents *complete* collapse (chapter 2).
    """
    _check_matrix(z)
    if gamma <= 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")
    if eps < 0:
        raise ValueError(f"eps must be >= 0, got {eps}")
    std = torch.sqrt(z.var(dim=0, unbiased=True) + eps)
    return F.relu(gamma - std).mean()


def vicreg_covariance(z: torch.Tensor) -> torch.Tensor:
    """VICReg covariance term: mean squared off-diagonal covariance (paper eq. 7).

    .. math:: C = \\frac{(Z-\\bar Z)^\\top (Z-\\bar Z)}{N-1},\\qquad
              L_{cov}(Z) = \\frac{1}{D(D-1)} \\sum_{i\\neq j} C_{ij}^2

    Note the normaliser ``D(D-1)`` (the mean over off-diagonal entries), as in EB-JEPA;
    the original VICReg paper divides by ``D``, so its coefficients do not transfer 1:1.

    Args:
        z: embeddings ``[N, D]`` with N >= 2 and D >= 2.

    Returns:
        Scalar tensor >= 0; zero for decorrelated dimensions.

    Prevents *dimensional* collapse (chapter 2).
    """
    _check_matrix(z)
    n, d = z.shape
    if d < 2:
        raise ValueError(f"z needs D >= 2 dimensions for a covariance term, got D = {d}")
    zc = z - z.mean(dim=0)
    cov = zc.T @ zc / (n - 1)
    off = cov - torch.diag(torch.diagonal(cov))
    return off.pow(2).sum() / (d * (d - 1))


def epps_pulley(y: torch.Tensor) -> torch.Tensor:
    """Epps-Pulley statistic of each column against N(0, 1), EB-JEPA convention.

    .. math:: G(y) = \\int \\phi(t)\\,\\bigl|\\hat\\psi(t) - \\phi(t)\\bigr|^2 dt,\\quad
              \\hat\\psi(t) = \\frac{1}{N}\\sum_n e^{i t y_n},\\quad \\phi(t) = e^{-t^2/2}

    The integral is a trapezoid rule over 10 equally spaced knots on ``[-3, 3]``; the
    statistic is *not* multiplied by N. (LeJEPA's reference instead uses 17 knots on
    ``[0, 3]`` with doubled weights -- the integrand is even -- and multiplies by N, so
    its SIGReg weight reads about ``lambda / N`` of ours; see chapter 3.)

    Args:
        y: samples ``[N, M]``: M one-dimensional samples (slices) of N points each.

    Returns:
        ``[M]`` non-negative statistics; close to 0 when a column looks standard normal.
    """
    _check_matrix(y, "y")
    lo, hi, k = EPPS_PULLEY_KNOTS
    t = torch.linspace(lo, hi, k, device=y.device, dtype=y.dtype)          # [K]
    phi = torch.exp(-0.5 * t * t)                                          # target CF = window
    ty = y.unsqueeze(-1) * t                                               # [N, M, K]
    re = torch.cos(ty).mean(dim=0)                                         # [M, K]
    im = torch.sin(ty).mean(dim=0)
    integrand = phi * ((re - phi) ** 2 + im ** 2)                          # [M, K]
    return torch.trapezoid(integrand, t, dim=-1)                           # [M]


def random_slices(dim: int, num_slices: int, generator: torch.Generator | None = None,
                  device=None, dtype=torch.float32) -> torch.Tensor:
    """Random unit directions ``A: [dim, num_slices]`` (Gaussian entries, unit-norm columns)."""
    if dim < 1 or num_slices < 1:
        raise ValueError(f"dim and num_slices must be >= 1, got dim={dim}, num_slices={num_slices}")
    a = torch.randn(dim, num_slices, generator=generator, dtype=dtype,
                    device=generator.device if generator is not None else "cpu")
    a = a / a.norm(dim=0, keepdim=True)
    return a.to(device) if device is not None else a


def sigreg(z: torch.Tensor, num_slices: int = 256, generator: torch.Generator | None = None) -> torch.Tensor:
    """SIGReg: match an isotropic Gaussian through random 1-D projections (paper eq. 8).

    .. math:: \\mathrm{SIGReg}(Z) = \\frac{1}{M}\\sum_{m=1}^{M} G\\bigl(Z a_m\\bigr),
              \\quad a_m \\sim \\mathcal N(0, I_D),\\ \\|a_m\\| = 1

    By the Cramer-Wold theorem, a distribution whose every 1-D projection is N(0, 1) is
    N(0, I); sampling M directions per step makes that test cheap. Differentiable in ``z``.

    Args:
        z: embeddings ``[N, D]``.
        num_slices: number M of random directions, >= 1.
        generator: a ``torch.Generator`` for the directions (pass one re-seeded per step to make
            a run reproducible; ``None`` uses the global RNG).

    Returns:
        Scalar tensor >= 0.
    """
    _check_matrix(z)
    if not isinstance(num_slices, int) or num_slices < 1:
        raise ValueError(f"num_slices must be an int >= 1, got {num_slices!r}")
    with torch.no_grad():
        a = random_slices(z.shape[1], num_slices, generator, dtype=z.dtype).to(z.device)
    return epps_pulley(z @ a).mean()


def temporal_similarity(z: torch.Tensor) -> torch.Tensor:
    """Temporal similarity: mean squared change between consecutive steps (paper eq. 12).

    Args:
        z: ``[T, N, D]`` (time first).

    Returns:
        Scalar: mean over ``(T-1)·N·D`` of ``(z[t+1] - z[t])^2``; 0 when ``T <= 1``.
    """
    _check_sequence(z, "z")
    if z.shape[0] <= 1:
        return z.new_zeros(())
    return (z[1:] - z[:-1]).pow(2).mean()


def inverse_dynamics_loss(idm: torch.nn.Module, z: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Inverse-dynamics loss: predict each action from consecutive latents (paper eq. 12).

    Args:
        idm: module mapping ``[*, 2D]`` (concatenated ``z_t, z_{t+1}``) to ``[*, A]``.
        z: latents ``[T, N, D]``.
        actions: ``[T-1, N, A]``, action ``t`` takes state ``t`` to ``t+1``.

    Returns:
        Scalar MSE between predicted and true actions.
    """
    _check_sequence(z, "z")
    _check_sequence(actions, "actions")
    if actions.dim() != 3 or actions.shape[:2] != (z.shape[0] - 1, z.shape[1]):
        raise ValueError(f"actions must have shape [T-1, N, A] = [{z.shape[0] - 1}, {z.shape[1]}, A], "
                         f"got {tuple(actions.shape)}")
    pairs = torch.cat([z[:-1], z[1:]], dim=-1)
    return F.mse_loss(idm(pairs), actions)


# ----------------------------------------------------------------------------------------------
# Composite losses (two views). Each returns (total, terms) with detached float terms.

def two_view_loss(z1: torch.Tensor, z2: torch.Tensor, *, invariance: float = 1.0, variance: float = 0.0,
                  covariance: float = 0.0, sigreg: float = 0.0, num_slices: int = 256,
                  generator: torch.Generator | None = None, monitor: bool = False
                  ) -> tuple[torch.Tensor, dict[str, float]]:
    """The image JEPA objective with every regulariser behind a weight (paper eq. 2, on projector outputs as in the reference code).

    .. math:: L = \\mathrm{inv}\\cdot\\mathrm{MSE}(z_1, z_2)
              + \\alpha\\,[v(z_1) + v(z_2)] + \\beta\\,[c(z_1) + c(z_2)]
              + \\lambda\\,\\tfrac12[\\mathrm{SIG}(z_1) + \\mathrm{SIG}(z_2)]

    VICReg is ``(variance=alpha, covariance=beta)``, SIGReg is ``sigreg=lambda``, and
    all weights 0 except ``invariance`` is the unregularised objective that collapses
    (chapter 2). MSE is the mean over all ``N·D`` entries; the two views' VICReg terms are
    summed and their SIGReg terms averaged, as in EB-JEPA. Both views share the random
    SIGReg directions of a call.

    Args:
        z1, z2: the two views' embeddings ``[N, D]``.
        invariance, variance, covariance, sigreg: weights ``>= 0``; 0 switches a term off.
        num_slices, generator: SIGReg directions (see :func:`sigreg`).
        monitor: also compute switched-off terms (without gradient) so plots can show them.

    Returns:
        ``(total, terms)``: ``terms`` maps ``"invariance"``, ``"variance"``, ``"covariance"``,
        ``"sigreg"`` (unweighted; only computed or monitored ones) and ``"total"`` to floats.
    """
    _check_matrix(z1, "z1")
    _check_matrix(z2, "z2")
    if z1.shape != z2.shape:
        raise ValueError(f"z1 and z2 must have the same shape, got {tuple(z1.shape)} and {tuple(z2.shape)}")
    check_weights(invariance=invariance, variance=variance, covariance=covariance, sigreg=sigreg)

    def var_term():
        return vicreg_variance(z1) + vicreg_variance(z2)

    def cov_term():
        return vicreg_covariance(z1) + vicreg_covariance(z2) if z1.shape[1] > 1 else z1.new_zeros(())

    def sig_term():
        with torch.no_grad():
            a = random_slices(z1.shape[1], num_slices, generator, dtype=z1.dtype).to(z1.device)
        return 0.5 * (epps_pulley(z1 @ a).mean() + epps_pulley(z2 @ a).mean())

    total = z1.new_zeros(())
    terms: dict[str, float] = {}
    for name, w, fn in (("invariance", invariance, lambda: F.mse_loss(z1, z2)), ("variance", variance, var_term),
                        ("covariance", covariance, cov_term), ("sigreg", sigreg, sig_term)):
        if w > 0:
            value = fn()
            total = total + w * value
            terms[name] = value.item()
        elif monitor:
            with torch.no_grad():
                terms[name] = fn().item()
    terms["total"] = total.item()
    return total, terms


def epps_pulley_gaussian_mean(n: int) -> float:
    """Expected Epps-Pulley value for N i.i.d. standard normal samples (bias of the ECF).

    E|psi_hat(t) - phi(t)|^2 = (1 - phi(t)^2) / N, integrated against phi with the same
    trapezoid rule. Used by tests and by chapter 3 to show the statistic's noise floor.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1 (number of samples), got {n!r}")
    lo, hi, k = EPPS_PULLEY_KNOTS
    t = torch.linspace(lo, hi, k, dtype=torch.float64)
    phi = torch.exp(-0.5 * t * t)
    return float(torch.trapezoid(phi * (1 - phi ** 2) / n, t))

