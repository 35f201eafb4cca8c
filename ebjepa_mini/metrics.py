"""Diagnostics of an embedding (is it healthy, dimensionally collapsed, or completely collapsed?)
and the detection score of chapter 4.

The collapse diagnostics are taught in chapter 2; they take embeddings ``z: [N, D]`` (a torch
tensor or a NumPy array) and never need gradients. :func:`average_precision_by_horizon` scores
chapter 4's detection maps of 1-, 2-, ... step-ahead predictions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["effective_rank", "per_dim_std", "covariance_spectrum", "collapse_verdict", "CollapseReport",
           "VERDICTS", "average_precision_by_horizon"]

VERDICTS = ("healthy", "dimensional collapse", "complete collapse")


def _as_matrix(z, name: str = "z") -> torch.Tensor:
    if isinstance(z, np.ndarray):
        z = torch.from_numpy(z)
    if not isinstance(z, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or numpy array of shape [N, D], got {type(z).__name__}")
    if z.dim() != 2:
        raise ValueError(f"{name} must have shape [N, D] (2 dims), got shape {tuple(z.shape)}")
    if z.shape[0] < 2:
        raise ValueError(f"{name} needs N >= 2 samples (rows), got N = {z.shape[0]}")
    return z.detach().to("cpu", torch.float64)


def effective_rank(z, centered: bool = True) -> float:
    """Effective rank (Roy & Vetterli, 2007) of the centred embeddings.

    .. math:: \\mathrm{erank}(Z) = \\exp\\Bigl(-\\sum_k p_k \\log p_k\\Bigr),\\qquad
              p_k = \\frac{\\sigma_k}{\\sum_j \\sigma_j}

    with :math:`\\sigma_k` the singular values of :math:`Z - \\bar Z`. It lies in
    ``[1, min(N, D)]`` for a non-constant ``z``: 1 when all the spread lies along one
    direction, ``D`` for isotropic spread. A constant batch (no spread at all) returns 0.

    ``centered=False`` gives RankMe's variant (Garrido et al., 2023), the singular values of
    ``Z`` itself: the shared mean then counts as one direction, so a (nearly) constant
    embedding has rank ~1 instead of the rank of its leftover numerical wiggles. Chapter 2
    shows both on a collapsed network.

    Args:
        z: embeddings ``[N, D]``.
        centered: subtract the mean embedding first (Roy & Vetterli) or not (RankMe).

    Returns:
        A float.
    """
    z = _as_matrix(z)
    zc = z - z.mean(dim=0) if centered else z
    s = torch.linalg.svdvals(zc)
    total = s.sum()
    if total <= 1e-12 * max(1.0, float(z.abs().max())):
        return 0.0
    p = s / total
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


def per_dim_std(z) -> np.ndarray:
    """Standard deviation of each embedding dimension (unbiased), ``[D]`` NumPy array.

    Compare with the VICReg hinge ``gamma`` (paper eq. 6): dimensions below it are pushed up.
    """
    return _as_matrix(z).std(dim=0, unbiased=True).numpy()


def covariance_spectrum(z) -> np.ndarray:
    """Eigenvalues of the embedding covariance, sorted from largest to smallest, ``[D]``.

    A healthy embedding spreads its variance over many eigenvalues; dimensional collapse
    shows as a sharp drop after a few; complete collapse makes them all ~0.
    """
    z = _as_matrix(z)
    zc = z - z.mean(dim=0)
    cov = zc.T @ zc / (z.shape[0] - 1)
    return torch.linalg.eigvalsh(cov).flip(0).clamp_min(0).numpy()


@dataclass
class CollapseReport:
    """What :func:`collapse_verdict` found."""

    verdict: str                # one of VERDICTS
    effective_rank: float
    dim: int
    relative_spread: float      # spread (RMS std) divided by the RMS size of the embeddings
    mean_std: float

    def __str__(self) -> str:
        return (f"{self.verdict}: centred effective rank {self.effective_rank:.1f} / {self.dim}, "
                f"mean std {self.mean_std:.3g}, relative spread {self.relative_spread:.3g}")


def collapse_verdict(z, complete_tol: float = 0.05, rank_fraction: float = 0.1) -> CollapseReport:
    """Classify an embedding as healthy, dimensionally collapsed or completely collapsed.

    * **complete collapse** -- every input maps to (nearly) the same point: the spread
      ``sqrt(mean_j Var(z_j))`` is below ``complete_tol`` times the RMS size
      ``sqrt(mean z^2)`` of the embeddings (or below 1e-6 in absolute terms);
    * **dimensional collapse** -- there is spread, but it lives in few directions:
      effective rank below ``rank_fraction * D`` (and below ``D``);
    * otherwise **healthy**.

    Args:
        z: embeddings ``[N, D]``.
        complete_tol: relative-spread threshold in ``(0, 1)``.
        rank_fraction: effective-rank threshold as a fraction of ``D``, in ``(0, 1)``.
    """
    if not 0 < complete_tol < 1:
        raise ValueError(f"complete_tol must be in (0, 1), got {complete_tol}")
    if not 0 < rank_fraction < 1:
        raise ValueError(f"rank_fraction must be in (0, 1), got {rank_fraction}")
    zt = _as_matrix(z)
    d = zt.shape[1]
    var = zt.var(dim=0, unbiased=True)
    spread = float(var.mean().sqrt())
    size = float(zt.pow(2).mean().sqrt())
    rel = spread / size if size > 0 else 0.0
    erank = effective_rank(zt)
    if spread < 1e-6 or rel < complete_tol:
        verdict = VERDICTS[2]
    elif erank < rank_fraction * d and d > 1:
        verdict = VERDICTS[1]
    else:
        verdict = VERDICTS[0]
    return CollapseReport(verdict, erank, d, rel, float(var.sqrt().mean()))


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
