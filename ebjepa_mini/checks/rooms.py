"""Checks of chapters 5 and 6's exercises (world models and planning on Two Rooms): the temporal
similarity term, the autoregressive rollout, MPPI's weights, the reference's temperature and one MPPI refit.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

from ._common import _as_tensor, _correct

__all__ = ["check_temporal_similarity", "check_world_rollout", "check_mppi_weights", "check_reference_temperature",
           "check_mppi_update"]


# ---- Chapter 5 ----
def check_temporal_similarity(fn: Callable[[torch.Tensor], torch.Tensor], seed: int = 0) -> None:
    """Exercise 5.1: ``fn(z [B, T, D]) -> scalar`` must be paper eq. 12's temporal similarity term."""
    from ..regularizers import temporal_similarity

    g = torch.Generator().manual_seed(seed)
    z = torch.randn(4, 6, 5, generator=g)
    got = _as_tensor(fn(z.clone()), "fn(z)")
    want = temporal_similarity(z.transpose(0, 1))
    if got.dim() != 0:
        raise AssertionError(f"Return a scalar, got shape {tuple(got.shape)}.")
    if torch.isclose(got, want * 5, rtol=1e-4):
        raise AssertionError("You summed over the dimensions: the term is a MEAN over batch, time and dimensions.")
    if not torch.isclose(got, want, rtol=1e-4):
        raise AssertionError(f"Expected {want.item():.5f}, got {got.item():.5f}. Differences are taken along time "
                             "(dim 1): z[:, 1:] - z[:, :-1].")
    _correct("Mean squared change between consecutive latents (paper eq. 12).")


def check_world_rollout(fn: Callable, seed: int = 0) -> None:
    """Exercise 5.2: ``fn(model, z0 [N, D], actions [N, H, 2]) -> [N, H+1, D]`` must be the autoregressive rollout."""
    from ..world import WorldModel

    torch.manual_seed(seed)
    model = WorldModel(stacks=(4, 4, 4), blocks=1, latent_dim=8, idm_hidden=8, probe_hidden=8, pool=2).eval()
    z0 = torch.randn(3, 8)
    actions = torch.randn(3, 5, 2)
    with torch.no_grad():
        got = _as_tensor(fn(model, z0, actions), "fn(model, z0, actions)")
        want = model.rollout(z0, actions)
    if got.shape != want.shape:
        raise AssertionError(f"Expected shape {tuple(want.shape)} (index 0 is z0 itself), got {tuple(got.shape)}.")
    if not torch.allclose(got[:, 0], z0):
        raise AssertionError("The first latent of the rollout should be z0 itself.")
    if torch.allclose(got[:, 2], model.predict(z0, actions[:, 1]), atol=1e-5):
        raise AssertionError("Each step must start from the PREVIOUS PREDICTION, not from z0.")
    if not torch.allclose(got, want, atol=1e-5):
        raise AssertionError("Mismatch: step t uses predict(previous latent, actions[:, t]).")
    _correct("Your rollout feeds the predictor its own outputs (paper eq. 9).")


# ---- Chapter 6 ----
def check_mppi_weights(fn: Callable[[torch.Tensor, float], torch.Tensor], seed: int = 0) -> None:
    """Exercise 6.1: ``fn(elite_costs [Q], temperature) -> weights [Q]`` must be MPPI's normalised
    weights ``exp(-(S_i - S_min) / τ)`` (the paper's convention)."""
    g = torch.Generator().manual_seed(seed)
    costs = torch.rand(10, generator=g) * 20 + 100
    for tau in (0.1, 1.0, 10.0, 1000.0):
        got = _as_tensor(fn(costs.clone(), tau), "fn(costs, temperature)")
        want = torch.softmax(-(costs - costs.min()) / tau, 0)
        if got.shape != want.shape:
            raise AssertionError(f"Expected one weight per elite, shape {tuple(want.shape)}, got {tuple(got.shape)}.")
        if not torch.isclose(got.sum(), torch.tensor(1.0), atol=1e-4):
            raise AssertionError(f"The weights must sum to 1 (τ = {tau}); got {got.sum().item():.4f}.")
        if not torch.allclose(got, want, atol=1e-5):
            low = torch.softmax(-(costs - costs.min()) * tau, 0)
            if torch.allclose(got, low, atol=1e-5):
                raise AssertionError("You multiplied by τ (the reference code's convention); the paper, and this "
                                     "book, DIVIDE the cost gap by τ.")
            raise AssertionError(f"Mismatch at τ = {tau}: low cost must mean high weight, exp(-(S - S_min) / τ).")
    _correct("Small τ picks the best elite; large τ averages them (paper Alg. 1).")


def check_reference_temperature(value: float, multiplier: float = 0.005) -> None:
    """Exercise 6.2: the τ of this book's convention that reproduces the reference's ``exp(0.005·(S_min - S))``."""
    want = 1.0 / multiplier
    if not isinstance(value, (int, float)) or not math.isclose(float(value), want, rel_tol=1e-3):
        raise AssertionError(f"exp(-(S - S_min)/τ) = exp(-0.005·(S - S_min)) requires 1/τ = 0.005; got τ = {value!r}.")
    _correct(f"τ = {want:g}: with cost gaps of a few units the weights are almost uniform, MPPI ≈ CEM's mean.")


def check_mppi_update(fn: Callable, seed: int = 0, min_std: float = 0.3) -> None:
    """Exercise 6.6: ``fn(samples [N, H, A], costs [N], num_elites, temperature, min_std) -> (mean [H, A], std [H, A])``
    must be ONE refit of the book's MPPI (paper Alg. 1's mean, plus the σ refit floored at ``min_std``)
    exactly as :func:`ebjepa_mini.planning.optimizers.mppi` with ``update_std=True`` does it.

    The reference is the package itself, not a copy of its formula: ``mppi`` runs one iteration on the
    quadratic cost ``E(a) = sum_{t, j} (a_{t,j} - target_{t,j})^2`` with a seeded generator and records the
    samples, their costs and the new mean and std.
    """
    from ..planning import mppi

    horizon, action_dim, n, q = 6, 2, 32, 8
    target = torch.linspace(-1.5, 1.5, horizon * action_dim).reshape(horizon, action_dim)

    def cost(a):                                       # [N, H, A] -> [N]
        return (a - target).pow(2).sum((-2, -1))

    for tau in (1.0, 10.0, 1000.0):
        history = []
        mppi(cost, horizon, action_dim, n, 1, q, noise_std=1.0, temperature=tau, update_std=True, min_std=min_std,
             generator=torch.Generator().manual_seed(seed), history=history)
        samples, costs = history[0]["samples"][0], history[0]["costs"][0]
        want_mean, want_std = history[0]["mean"][0], history[0]["std"][0]
        out = fn(samples.clone(), costs.clone(), q, tau, min_std)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise AssertionError("Return a pair (new_mean, new_std).")
        mean, std = (_as_tensor(v, f"fn(...)[{i}]") for i, v in enumerate(out))
        if mean.shape != want_mean.shape or std.shape != want_std.shape:
            raise AssertionError(f"Expected mean and std of shape {tuple(want_mean.shape)} ([H, A]), got "
                                 f"{tuple(mean.shape)} and {tuple(std.shape)}. Sum over the elites (dim 0).")
        if not torch.allclose(mean, want_mean, atol=1e-4):
            idx = costs.topk(q, largest=False).indices
            e, c = samples[idx], costs[idx]
            for wrong, hint in ((torch.softmax((c - c.min()) / tau, 0), "The weights need the minus sign: LOW cost "
                                 "must get HIGH weight, w_i ∝ exp(-(E_i - E_min) / τ)."),
                                (torch.softmax(-(c - c.min()) * tau, 0), "You multiplied the cost gap by τ; this "
                                 "book (and the paper) DIVIDES it by τ."),
                                (torch.full((q,), 1.0 / q), "Uniform weights are CEM's; MPPI weights the elites "
                                 "by exp(-(E_i - E_min) / τ).")):
                if torch.allclose(mean, (wrong[:, None, None] * e).sum(0), atol=1e-4):
                    raise AssertionError(f"Mean mismatch at τ = {tau}. {hint}")
            w_all = torch.softmax(-(costs - costs.min()) / tau, 0)
            if torch.allclose(mean, (w_all[:, None, None] * samples).sum(0), atol=1e-4):
                raise AssertionError(f"Mean mismatch at τ = {tau}: you weighted ALL samples; keep only the "
                                     f"{q} cheapest (the elites, costs.topk(num_elites, largest=False)).")
            raise AssertionError(f"Mean mismatch at τ = {tau}: max abs error {(mean - want_mean).abs().max():.3g}. "
                                 "new_mean = sum_i w_i a_i over the elites.")
        if not torch.allclose(std, want_std, atol=1e-4, rtol=1e-4):
            raise AssertionError(f"Std mismatch at τ = {tau}: max abs error {(std - want_std).abs().max():.3g}. "
                                 "new_std = sqrt(sum_i w_i (a_i - new_mean)^2) over the elites, with the same "
                                 "weights, around the NEW mean, floored at min_std.")
    _correct("Your update reproduces one iteration of the book's MPPI: the same mean and std.")
