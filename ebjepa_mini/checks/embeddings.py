"""Checks of chapters 2 and 3's exercises (collapse and its regularisers): the VICReg variance hinge,
the effective rank, diagnosing collapse, the Epps-Pulley statistic, LeJEPA's weight and a collapsing run.
"""
from __future__ import annotations

from typing import Callable

import torch

from ._common import _as_tensor, _correct

__all__ = ["check_vicreg_variance", "check_effective_rank", "check_collapse_diagnosis", "check_epps_pulley",
           "check_lejepa_lambda", "check_collapsing_run"]


# ---- Chapter 2 ----
def check_vicreg_variance(fn: Callable[[torch.Tensor], torch.Tensor], seed: int = 0) -> None:
    """Exercise 2.1: ``fn(z [N, D]) -> scalar`` must be the VICReg variance hinge (paper eq. 6, gamma=1, eps=1e-4)."""
    from ..regularizers import vicreg_variance

    gen = torch.Generator().manual_seed(seed)
    cases = [torch.randn(64, 8, generator=gen) * torch.linspace(0.1, 2.0, 8),
             torch.zeros(16, 4), torch.randn(5, 3, generator=gen) * 3]
    for z in cases:
        got = _as_tensor(fn(z.clone()), "your function")
        want = vicreg_variance(z)
        if got.numel() != 1:
            raise AssertionError(f"Return one number (the mean over dimensions), got shape {tuple(got.shape)}.")
        if abs(got.item() - want.item()) > 1e-4:
            biased = torch.relu(1 - torch.sqrt(z.var(0, unbiased=False) + 1e-4)).mean()
            no_eps = torch.relu(1 - z.std(0)).mean()
            if abs(got.item() - biased.item()) < 1e-5:
                raise AssertionError("Use the unbiased variance (divide by N-1): z.var(dim=0) or unbiased=True.")
            if abs(got.item() - no_eps.item()) < 1e-5 and z.abs().sum() > 0:
                raise AssertionError("Add eps = 1e-4 to the variance INSIDE the square root.")
            raise AssertionError(f"Expected {want.item():.5f}, got {got.item():.5f}. The term is "
                                 "mean_j max(0, 1 - sqrt(Var(z_j) + 1e-4)), with the variance over the batch (dim 0).")
    z = torch.zeros(16, 4, requires_grad=True)
    _as_tensor(fn(z), "your function").backward()
    if z.grad is None:
        raise AssertionError("Your function must be differentiable (use torch operations, no .item()/.numpy()).")
    _correct("Your variance hinge matches paper eq. 6, including the constant batch where it equals gamma.")


def check_effective_rank(fn: Callable, seed: int = 0) -> None:
    """Exercise 2.2: ``fn(z [N, D]) -> float`` must be the effective rank of the centred ``z`` (Roy & Vetterli)."""
    from ..metrics import effective_rank

    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(200, 6, generator=gen, dtype=torch.float64))
    cases = {"isotropic": torch.randn(500, 6, generator=gen, dtype=torch.float64),
             "rank 1": torch.randn(300, 1, generator=gen, dtype=torch.float64) * torch.ones(1, 6, dtype=torch.float64),
             "skewed spectrum": (q - q.mean(0)) * torch.tensor([5.0, 2, 1, 0.5, 0.1, 0.01], dtype=torch.float64)}
    for name, z in cases.items():
        got = float(fn(z.clone()))
        want = effective_rank(z)
        if abs(got - want) > 1e-3 * max(1.0, want):
            uncentred = effective_rank(z, centered=False)
            if abs(got - uncentred) < 1e-3 * max(1.0, uncentred):
                raise AssertionError(f"{name}: you forgot to centre z (subtract the mean over the batch) first.")
            raise AssertionError(f"{name}: expected {want:.3f}, got {got:.3f}. Normalise the SINGULAR VALUES "
                                 "(not their squares) to sum to 1, then exp(-sum p log p).")
    _correct("Your effective rank matches on an isotropic, a rank-1 and a skewed spectrum.")


def check_collapse_diagnosis(answers: dict) -> None:
    """Exercise 2.3: map each setting to the collapse it shows.

    ``answers`` maps ``"none"``, ``"variance"``, ``"covariance"``, ``"vicreg"`` to one of
    ``"healthy"``, ``"dimensional collapse"``, ``"complete collapse"``.
    """
    from ..metrics import VERDICTS

    expected = {"none": "complete collapse", "variance": "dimensional collapse",
                "covariance": "complete collapse", "vicreg": "healthy"}
    hints = {"none": "with only the invariance term, mapping everything to one point is a perfect solution.",
             "variance": "each dimension keeps std >= gamma, but nothing stops them all being the same dimension.",
             "covariance": "a constant embedding has zero covariance: the covariance term alone is satisfied by collapse.",
             "vicreg": "variance keeps spread, covariance spreads it over dimensions."}
    if not isinstance(answers, dict):
        raise AssertionError(f"Pass a dict like {{'none': 'complete collapse', ...}}, got {type(answers).__name__}.")
    for key, want in expected.items():
        got = answers.get(key)
        if got not in VERDICTS:
            raise AssertionError(f"answers[{key!r}] must be one of {VERDICTS}, got {got!r}.")
        if got != want:
            raise AssertionError(f"{key}: not {got!r}. Hint: {hints[key]}")
    _correct("All four diagnoses are right.")


# ---- Chapter 3 ----
def check_epps_pulley(fn: Callable[[torch.Tensor], torch.Tensor], seed: int = 0) -> None:
    """Exercise 3.1: ``fn(y [N, M]) -> [M]`` must be the Epps-Pulley statistic of each column
    (EB-JEPA convention: 10 knots on [-3, 3], trapezoid rule, window = target CF, not times N)."""
    from ..regularizers import epps_pulley

    gen = torch.Generator().manual_seed(seed)
    cases = [torch.randn(256, 5, generator=gen), torch.randn(64, 3, generator=gen) * 0.1 + 1.0,
             torch.zeros(32, 2)]
    for y in cases:
        got = _as_tensor(fn(y.clone()), "your function")
        want = epps_pulley(y)
        if got.shape != want.shape:
            raise AssertionError(f"Return one statistic per column, shape {tuple(want.shape)}; got {tuple(got.shape)}.")
        if not torch.allclose(got.to(want.dtype), want, atol=1e-5, rtol=1e-4):
            ratio = float(got.flatten()[0] / want.flatten()[0]) if want.flatten()[0] != 0 else float("nan")
            if abs(ratio - y.shape[0]) < 1e-2 * y.shape[0]:
                raise AssertionError("Your statistic is N times too large: that is LeJEPA's convention; "
                                     "EB-JEPA does not multiply by the batch size.")
            raise AssertionError(f"Expected {want.tolist()}, got {got.tolist()}. Integrate "
                                 "exp(-t^2/2) * ((mean cos(t y) - exp(-t^2/2))^2 + (mean sin(t y))^2) with "
                                 "torch.trapezoid over t = torch.linspace(-3, 3, 10).")
    _correct("Your Epps-Pulley statistic matches the package's (paper eq. 8 building block).")


def check_lejepa_lambda(value: float, batch_size: int = 256, ebjepa_lambda: float = 10.0) -> None:
    """Exercise 3.2: the LeJEPA-convention weight equivalent to EB-JEPA's ``lambda``.

    LeJEPA multiplies its statistic by the batch size, so its weight is EB-JEPA's divided by it."""
    want = ebjepa_lambda / batch_size
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise AssertionError(f"Give a number, got {type(value).__name__}.")
    if abs(value - ebjepa_lambda * batch_size) < 1e-6 * ebjepa_lambda * batch_size:
        raise AssertionError("The other way round: LeJEPA's statistic is already N times larger, so its weight "
                             "must be N times smaller.")
    if abs(value - want) > 1e-3 * want:
        raise AssertionError(f"Expected lambda / N = {want:.4g}. LeJEPA multiplies the statistic by N = {batch_size}.")
    _correct(f"lambda' = {ebjepa_lambda:g} / {batch_size} = {want:.4f} on LeJEPA's N-scaled statistic.")


def check_collapsing_run(run, healthy) -> None:
    """Exercise 3.3: ``run`` (an :class:`~ebjepa_mini.image.ImageRun`) must have collapsed compared with ``healthy``.

    Collapsed here means: projector outputs with less than a third of the healthy run's spread, or an
    effective rank of the encoder features below 60 % of the healthy run's.
    """
    for name, r in (("run", run), ("healthy", healthy)):
        if not hasattr(r, "proj_std") or not hasattr(r, "effective_rank"):
            raise AssertionError(f"{name} must be an ImageRun (from ImageExperiment.train), got {type(r).__name__}.")
    spread = run.proj_std < healthy.proj_std / 3
    rank = run.effective_rank < 0.6 * healthy.effective_rank
    if not (spread or rank):
        raise AssertionError(f"{run.name} did not collapse: projector std {run.proj_std:.3f} vs {healthy.proj_std:.3f}, "
                             f"effective rank {run.effective_rank:.1f} vs {healthy.effective_rank:.1f}. "
                             "Try a smaller weight (the invariance term then wins).")
    _correct(f"{run.name} collapsed: projector std {run.proj_std:.3f} (healthy {healthy.proj_std:.3f}), "
             f"effective rank {run.effective_rank:.1f} (healthy {healthy.effective_rank:.1f}).")
