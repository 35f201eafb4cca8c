"""Checks of chapter 1's exercises (energy-based models): the relaxed free energy, the contrastive
hinge, a flat (collapsed) energy, how cold the free energy must be to match its minimum, and the
unified JEPA energy (paper eq. 1).
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from .. import energy
from ._common import _as_tensor, _correct

__all__ = ["check_free_energy", "check_hinge_loss", "check_flat_energy", "check_cold_enough", "check_jepa_energy"]


def check_free_energy(fn: Callable[[torch.Tensor, float], torch.Tensor], seed: int = 0) -> None:
    """Exercise 1.1: ``fn(energies [N, K], beta) -> [N]`` must be the relaxed free energy.

    The reference is :func:`~ebjepa_mini.energy.latent.relaxed_min`:
    ``-1/beta * log(mean_k exp(-beta * E[:, k]))``.
    """
    gen = torch.Generator().manual_seed(seed)
    e = 3.0 * torch.rand(6, 24, generator=gen, dtype=torch.float64)
    for beta in (0.3, 1.0, 5.0):
        got = _as_tensor(fn(e.clone(), beta), "your function")
        want = energy.relaxed_min(e, beta)
        if got.shape != want.shape:
            raise AssertionError(f"For energies of shape {tuple(e.shape)} expected one value per row, shape "
                                 f"{tuple(want.shape)}, got {tuple(got.shape)}. Reduce over the last dimension (z).")
        if not torch.allclose(got.double(), want, atol=1e-4, rtol=1e-4):
            log_sum = -torch.logsumexp(-beta * e, dim=-1) / beta
            if torch.allclose(got.double(), log_sum, atol=1e-4):
                raise AssertionError("You computed -1/beta * log(SUM exp(-beta E)): use the MEAN over z, "
                                     "i.e. subtract log(K) inside, so that beta -> 0 gives the mean energy.")
            if torch.allclose(got.double(), -want, atol=1e-4):
                raise AssertionError("Sign error: F_beta = -(1/beta) * log(mean exp(-beta E)) is positive here.")
            raise AssertionError(f"Mismatch at beta={beta}: max abs error "
                                 f"{(got.double() - want).abs().max().item():.3g}. "
                                 "Check the factor -1/beta and the minus sign inside exp(-beta * E).")
    big = torch.tensor([[900.0, 1000.0, 1100.0]], dtype=torch.float64)
    got = _as_tensor(fn(big, 10.0), "your function").double()
    if not torch.isfinite(got).all() or abs(got.item() - energy.relaxed_min(big, 10.0).item()) > 1e-3:
        raise AssertionError("For large beta * E (here 10 * 900) exp underflows to 0 and log gives inf: "
                             "use torch.logsumexp, which subtracts the maximum before exponentiating.")
    _correct("Your relaxed free energy matches the reference, also where a naive exp would underflow.")


def check_hinge_loss(fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor], seed: int = 0) -> None:
    """Exercise 1.2: ``fn(e_pos [N], e_neg [M], margin) -> scalar`` must be the contrastive hinge.

    The reference is :func:`~ebjepa_mini.energy.training.hinge_loss`: ``mean(e_pos) + mean(max(0, margin - e_neg))``.
    """
    gen = torch.Generator().manual_seed(seed)
    e_pos, e_neg = 2.0 * torch.rand(16, generator=gen), 2.0 * torch.rand(12, generator=gen)
    for margin in (0.5, 1.0):
        got = _as_tensor(fn(e_pos.clone(), e_neg.clone(), margin), "your loss")
        if got.dim() != 0:
            raise AssertionError(f"The loss should be a scalar (0-dim tensor); got shape {tuple(got.shape)}. "
                                 "Average over the points.")
        want = energy.hinge_loss(e_pos, e_neg, margin)
        if not torch.allclose(got, want, atol=1e-5):
            no_clip = e_pos.mean() + (margin - e_neg).mean()
            if torch.allclose(got, no_clip, atol=1e-5):
                raise AssertionError("Negatives above the margin should cost nothing: clip with "
                                     "torch.relu(margin - e_neg) (a hinge), else energies are pushed up forever.")
            raise AssertionError(f"Mismatch for margin={margin}: got {got.item():.4f}, expected {want.item():.4f}. "
                                 "Pull data down (+ mean of e_pos) and push negatives up only below the margin.")
    e_pos.requires_grad_(True)
    e_neg_far = torch.full((4,), 5.0, requires_grad=True)
    fn(e_pos, e_neg_far, 1.0).backward()
    if e_neg_far.grad is not None and e_neg_far.grad.abs().max() > 0:
        raise AssertionError("Negatives already above the margin still receive a gradient: use a hinge (relu).")
    _correct("Your hinge pulls data down and pushes negatives up until they reach the margin.")


def check_flat_energy(values: torch.Tensor, tol: float = 0.05) -> None:
    """Exercise 1.3: ``values`` (an energy on the plotting grid) must be flat, i.e. collapsed.

    Args:
        values: energies ``[n*n]`` (or any shape) on :func:`~ebjepa_mini.energy.toy.make_grid`.
        tol: largest standard deviation still called flat.
    """
    values = _as_tensor(values, "your computation").detach().double().reshape(-1)
    if values.numel() < 4:
        raise AssertionError("Pass the energy on the whole grid (many points), not a single value.")
    spread, top = values.std().item(), values.max().item()
    if not math.isfinite(spread):
        raise AssertionError("The energy contains inf or nan values.")
    if spread > tol:
        raise AssertionError(f"The energy varies over the plane (std {spread:.3f} > {tol}, max {top:.3f}): "
                             "it is not flat. With lam = 0 every point y can be decoded exactly; did you set lam=0?")
    _correct(f"Flat: std over the plane {spread:.4f}, max {top:.4f}. Every point has (almost) zero energy.")


def check_cold_enough(beta: float, n_latent: int = 36, tol: float = 0.01, grid: int = 41) -> tuple[float, float]:
    """Exercise 1.4: at inverse temperature ``beta``, ``F_beta`` must be within ``tol`` of ``F_inf`` everywhere.

    The guarantee is the bound ``0 <= F_beta - F_inf <= log(n_latent) / beta``; the check also measures
    the largest gap on a ``grid`` x ``grid`` plotting grid (float64).

    Returns:
        ``(bound, measured)``: ``log(n_latent) / beta`` and the largest measured gap on the grid.
    """
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
        raise AssertionError(f"beta should be a positive number, got {beta!r}.")
    y, _, _ = energy.make_grid(grid)
    e = energy.latent_energy(y.double(), energy.latent_grid(n_latent).double())
    gap = (energy.relaxed_min(e, float(beta)) - e.min(-1).values).max().item()
    bound = math.log(n_latent) / beta
    if bound > tol:
        where = "also on this grid" if gap > tol else f"although on this grid the gap is only {gap:.4f}"
        raise AssertionError(f"At beta = {beta:g} the bound log({n_latent}) / beta = {bound:.4f} exceeds {tol}: "
                             f"nothing guarantees a gap below {tol} everywhere ({where}). Solve log(n) / beta <= {tol}.")
    _correct(f"beta = {beta:g}: the bound guarantees a gap <= {bound:.4f}; the largest gap on a {grid} x {grid} "
             f"grid is {gap:.4f}.")
    return bound, gap


def check_jepa_energy(fn: Callable, seed: int = 0) -> None:
    """Exercise 1.4: ``fn(f, g, x, x_prime, a=None, q=None) -> [B]`` must be the unified energy (paper eq. 1).

    The reference is :func:`~ebjepa_mini.energy.toy_jepa.jepa_energy`.
    """
    gen = torch.Generator().manual_seed(seed)
    w_enc, w_pred = torch.randn(3, 4, generator=gen), torch.randn(4 + 2, 4, generator=gen)
    f = lambda x: x @ w_enc                                        # noqa: E731  toy linear encoder
    g = lambda z, u=None: (z if u is None else torch.cat([z, u], -1) @ w_pred)  # noqa: E731
    x, xp, a = (torch.randn(5, 3, generator=gen), torch.randn(5, 3, generator=gen), torch.randn(5, 2, generator=gen))
    cases = [("image (g = identity)", (f, None, x, xp), {}), ("action-conditioned", (f, g, x, xp), {"a": a})]
    for name, args, kwargs in cases:
        got = _as_tensor(fn(*args, **kwargs), "your energy")
        want = energy.jepa_energy(*args, **kwargs)
        if got.shape != want.shape:
            raise AssertionError(f"[{name}] expected one energy per example, shape {tuple(want.shape)}; "
                                 f"got {tuple(got.shape)}. Sum the squared error over the embedding dimension.")
        if not torch.allclose(got, want, atol=1e-4, rtol=1e-4):
            raise AssertionError(f"[{name}] mismatch: max abs error {(got - want).abs().max().item():.3g}. "
                                 "E = ||g(f(x), q(a)) - f(x')||^2, summed over dimensions, one value per example.")
    _correct("Your energy matches paper eq. 1 for the image and the action-conditioned instantiations.")
