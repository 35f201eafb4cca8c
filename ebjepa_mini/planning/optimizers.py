"""The optimisers of chapter 6: MPPI and CEM (paper Alg. 1), the planning energy (paper eq. 14) and
the cost function that scores sampled actions with a world model's imagined rollout."""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from ..presets import COSTS, PLANNERS, PlanSettings

__all__ = ["PLANNERS", "COSTS", "clip_norm", "mppi", "cem", "plan", "plan_step", "planning_energy", "latent_distance",
           "latent_cost_fn"]


def clip_norm(actions: torch.Tensor, max_norm: float) -> torch.Tensor:
    """Rescale every action vector (last dim) longer than ``max_norm`` to length ``max_norm``."""
    norm = actions.norm(dim=-1, keepdim=True)
    return actions * torch.clamp(max_norm / (norm + 1e-6), max=1.0)


def _check(horizon, action_dim, num_samples, num_iters, num_elites, noise_std, temperature=None, min_std=0.0):
    for name, v in (("horizon", horizon), ("action_dim", action_dim), ("num_samples", num_samples),
                    ("num_iters", num_iters), ("num_elites", num_elites)):
        if not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an int >= 1, got {v!r}")
    if num_elites > num_samples:
        raise ValueError(f"num_elites must be <= num_samples ({num_samples}), got {num_elites}")
    if not noise_std > 0:
        raise ValueError(f"noise_std must be > 0, got {noise_std!r}")
    if temperature is not None and not temperature > 0:
        raise ValueError(f"temperature must be > 0 (it divides the cost gap), got {temperature!r}")
    if not 0 <= min_std <= noise_std:
        raise ValueError(f"min_std must be in [0, noise_std = {noise_std}], got {min_std!r}")


def _optimise(cost_fn, horizon, action_dim, num_samples, num_iters, num_elites, noise_std, temperature,
              init_mean, generator, max_norm, history, execute="mean", update_std=True, min_std=0.0):
    batched = init_mean is not None and init_mean.dim() == 3
    if init_mean is None:
        mean = torch.zeros(1, horizon, action_dim, device=generator.device if generator is not None else "cpu")
    else:
        mean = init_mean.detach().clone().float()
        mean = mean if batched else mean.unsqueeze(0)
        if mean.shape[1:] != (horizon, action_dim):
            raise ValueError(f"init_mean must be [H, A] = [{horizon}, {action_dim}] (or [E, H, A]), "
                             f"got {tuple(init_mean.shape)}")
    e = mean.shape[0]
    std = torch.full_like(mean, float(noise_std))
    for _ in range(num_iters):
        eps = torch.randn(e, num_samples, horizon, action_dim, generator=generator, device=mean.device)
        samples = mean.unsqueeze(1) + std.unsqueeze(1) * eps
        if max_norm is not None:
            samples = clip_norm(samples, max_norm)
        costs = cost_fn(samples if batched else samples[0])
        costs = costs.reshape(e, num_samples).float().to(mean.device)
        elite_cost, idx = costs.topk(num_elites, dim=1, largest=False)
        elites = samples.gather(1, idx[:, :, None, None].expand(-1, -1, horizon, action_dim))
        if temperature is None:   # CEM
            w = torch.full((e, num_elites, 1, 1), 1.0 / num_elites, device=mean.device)
            mean = elites.mean(1)
            if update_std and num_elites > 1:
                std = elites.std(1).clamp_min(min_std)
        else:                     # MPPI: w ∝ exp(-(S - S_min) / τ) over the elites
            w = torch.softmax(-(elite_cost - elite_cost[:, :1]) / temperature, dim=1)[:, :, None, None]
            mean = (w * elites).sum(1)
            if update_std:        # the book's variant; paper Alg. 1 keeps σ fixed
                std = ((w * (elites - mean.unsqueeze(1)) ** 2).sum(1)).sqrt().clamp_min(min_std)
        if history is not None:
            history.append({"samples": samples, "costs": costs, "elite_idx": idx, "mean": mean.clone(),
                            "std": std.clone()})
    if execute == "elite":        # the reference: one elite of the last iteration, drawn with its weight
        pick = torch.multinomial(w[:, :, 0, 0], 1, generator=generator)[:, 0]
        mean = elites[torch.arange(e, device=mean.device), pick]
    if max_norm is not None:
        mean = clip_norm(mean, max_norm)
    return mean if batched else mean[0]


def mppi(cost_fn: Callable[[torch.Tensor], torch.Tensor], horizon: int, action_dim: int, num_samples: int,
         num_iters: int, num_elites: int, noise_std: float, temperature: float, init_mean: torch.Tensor | None = None,
         generator: torch.Generator | None = None, max_norm: float | None = None,
         history: list | None = None, execute: str = "mean", update_std: bool = False,
         min_std: float = 0.0) -> torch.Tensor:
    """Model Predictive Path Integral control with elites (paper Alg. 1; the book's variants as options).

    Each of ``num_iters`` iterations: sample ``a_i = μ + σ ⊙ ε_i`` (``num_samples`` of them), score
    ``S_i = cost_fn(a_i)``, keep the ``num_elites`` lowest, weight them ``w_i ∝ exp(-(S_i - S_min)/τ)``
    and set ``μ ← Σ w_i a_i``. That is Algorithm 1 as the paper writes it (σ stays ``noise_std``).
    With ``update_std=True`` (the book's variant and the reference code's) σ is also refitted,
    ``σ ← max(sqrt(Σ w_i (a_i - μ)²), min_std)``: without a floor a small τ puts all the weight on one
    elite and σ collapses to zero after one iteration.

    Args:
        cost_fn: actions ``[N, H, A]`` -> costs ``[N]`` (batched: ``[E, N, H, A]`` -> ``[E, N]``).
        horizon: H; action_dim: A.
        num_samples, num_iters, num_elites: N, J, Q.
        noise_std: initial σ.
        temperature: τ > 0, in cost units (divides the cost gap; see the module docstring).
        init_mean: initial μ ``[H, A]`` (or ``[E, H, A]`` for E problems at once); default zeros.
        generator: torch.Generator for reproducible sampling; samples are drawn on ``init_mean``'s
            device (default: the generator's), which must be the generator's.
        max_norm: clip every sampled step to this length (``None``: no clipping).
        history: if a list is given, one dict per iteration is appended (samples, costs, elites, the
            updated mean and std).
        execute: ``"mean"`` returns ``μ`` (paper Alg. 1); ``"elite"`` returns one elite of the last
            iteration drawn with probability ``w_i`` (the reference code).
        update_std: refit σ to the weighted elites (``False``: paper Alg. 1, σ fixed).
        min_std: the floor of the refitted σ, in ``[0, noise_std]``.

    Returns:
        The optimised action sequence ``μ`` (or the drawn elite): ``[H, A]`` (or ``[E, H, A]``).
    """
    _check(horizon, action_dim, num_samples, num_iters, num_elites, noise_std, temperature, min_std)
    if execute not in ("mean", "elite"):
        raise ValueError(f"execute must be 'mean' or 'elite', got {execute!r}")
    return _optimise(cost_fn, horizon, action_dim, num_samples, num_iters, num_elites, noise_std, float(temperature),
                     init_mean, generator, max_norm, history, execute, bool(update_std), float(min_std))


def cem(cost_fn: Callable[[torch.Tensor], torch.Tensor], horizon: int, action_dim: int, num_samples: int,
        num_iters: int, num_elites: int, noise_std: float, init_mean: torch.Tensor | None = None,
        generator: torch.Generator | None = None, max_norm: float | None = None,
        history: list | None = None, min_std: float = 0.0) -> torch.Tensor:
    """Cross-Entropy Method: like :func:`~ebjepa_mini.planning.optimizers.mppi` but the elites are refitted with their plain mean and
    (unbiased) standard deviation (floored at ``min_std``). Same arguments as :func:`~ebjepa_mini.planning.optimizers.mppi` except
    ``temperature``, ``execute`` and ``update_std`` (CEM always refits σ)."""
    _check(horizon, action_dim, num_samples, num_iters, num_elites, noise_std, None, min_std)
    return _optimise(cost_fn, horizon, action_dim, num_samples, num_iters, num_elites, noise_std, None,
                     init_mean, generator, max_norm, history, min_std=float(min_std))


def plan(cost_fn: Callable[[torch.Tensor], torch.Tensor], settings: PlanSettings,
         horizon: int | None = None, init_mean: torch.Tensor | None = None, generator: torch.Generator | None = None,
         history: list | None = None) -> torch.Tensor:
    """One plan with the sizes of a (validated) :class:`~ebjepa_mini.presets.PlanSettings`: :func:`~ebjepa_mini.planning.optimizers.mppi`
    (its τ, step cap and executed action) or :func:`~ebjepa_mini.planning.optimizers.cem`, over ``horizon`` steps (default ``settings.horizon``).
    The one place where settings become optimiser arguments (:func:`~ebjepa_mini.planning.episodes.evaluate`, the Planner Lab)."""
    s = settings
    args = dict(horizon=s.horizon if horizon is None else horizon, action_dim=2, num_samples=s.num_samples,
                num_iters=s.num_iters, num_elites=s.num_elites, noise_std=s.noise_std, init_mean=init_mean,
                generator=generator, max_norm=s.max_norm, history=history)
    if s.planner == "mppi":
        return mppi(cost_fn, temperature=s.temperature, execute=s.execute, update_std=s.update_std,
                    min_std=s.min_std, **args)
    return cem(cost_fn, min_std=s.min_std, **args)


def planning_energy(z_traj: torch.Tensor, z_goal: torch.Tensor, cost: str = "cumulative") -> torch.Tensor:
    """Planning energy (paper eq. 14) with the reference's distance: mean over dimensions of the squared
    difference to the goal latent, summed over the predicted states ``t = 1..H`` (``"cumulative"``) or
    taken at ``t = H`` only (``"last"``).

    Args:
        z_traj: rollouts ``[..., H+1, D]`` (index 0 is the current latent, left out: a constant).
        z_goal: ``[..., D]`` broadcastable against ``z_traj[..., 0, :]``.

    Returns:
        ``[...]`` costs.
    """
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {COSTS}, got {cost!r}")
    return _total(latent_distance(z_traj[..., 1:, :], z_goal.unsqueeze(-2)), cost)


def latent_distance(z: torch.Tensor, z_goal: torch.Tensor) -> torch.Tensor:
    """The per-step term of eq. 14 as the reference computes it: mean over the latent dimensions of
    the squared difference to the goal latent (``[..., D]`` -> ``[...]``)."""
    return (z - z_goal).pow(2).mean(-1)


def _total(d: torch.Tensor, cost: str) -> torch.Tensor:
    """Eq. 14 from per-step distances ``[..., H]``: their sum (cumulative) or the last one."""
    return d.sum(-1) if cost == "cumulative" else d[..., -1]


def latent_cost_fn(model, z0: torch.Tensor, z_goal: torch.Tensor, cost: str = "cumulative",
                   device="cpu") -> Callable[[torch.Tensor], torch.Tensor]:
    """The ``cost_fn`` that :func:`~ebjepa_mini.planning.optimizers.mppi` / :func:`~ebjepa_mini.planning.optimizers.cem` minimise: roll the world model out from ``z0``
    under the sampled actions and score the imagined latents with eq. 14, step by step
    (:func:`~ebjepa_mini.planning.optimizers.latent_distance` per step; the same numbers as :func:`~ebjepa_mini.planning.optimizers.planning_energy` on the stacked rollout).

    Args:
        model: a world model with ``predict(z [M, D], a [M, A]) -> [M, D]`` (one step of its rollout).
        z0, z_goal: current and goal latents, ``[E, D]`` for E problems (or ``[D]`` / ``[1, D]`` for one).

    Returns:
        ``cost_fn``: actions ``[N, H, A]`` -> ``[N]`` for one problem, ``[E, N, H, A]`` -> ``[E, N]`` for E.
    """
    if cost not in COSTS:
        raise ValueError(f"cost must be one of {COSTS}, got {cost!r}")
    z0 = z0.reshape(-1, z0.shape[-1]).to(device)
    z_goal = z_goal.reshape(-1, z_goal.shape[-1]).to(device)

    def cost_fn(actions: torch.Tensor) -> torch.Tensor:
        batched = actions.dim() == 4
        a = actions if batched else actions.unsqueeze(0)
        e, n, h, _ = a.shape
        if e != len(z0):
            raise ValueError(f"actions are for {e} problems but z0 holds {len(z0)}")
        a = a.to(device).reshape(e * n, h, -1)
        z, goal = z0.repeat_interleave(n, 0), z_goal.repeat_interleave(n, 0)
        # the rollout of model.rollout, scored step by step: the same numbers as planning_energy on the
        # stacked trajectory, without holding [E·N, H+1, D] latents in memory (about twice as fast)
        d = []
        for t in range(h):
            z = model.predict(z, a[:, t])
            d.append(latent_distance(z, goal))
        costs = _total(torch.stack(d, -1), cost).reshape(e, n)
        return costs if batched else costs[0]

    return cost_fn


def plan_step(model, z_now: torch.Tensor, z_goal: torch.Tensor, settings: PlanSettings, horizon: int | None = None,
              init_mean: torch.Tensor | None = None, generator: torch.Generator | None = None,
              history: list | None = None, device="cpu") -> torch.Tensor:
    """One planning request, whole: from the latents ``z_now`` towards ``z_goal`` (``[E, D]``), the energy
    ``settings.cost`` of the world model's imagined rollouts (:func:`latent_cost_fn`) minimised by
    ``settings.planner`` (:func:`plan`). Used by every episode's replan (:func:`~ebjepa_mini.planning.episodes.evaluate`)
    and by the Planner Lab. Returns the plan ``[E, H, A]``."""
    cost_fn = latent_cost_fn(model, z_now, z_goal, settings.cost, device)
    return plan(cost_fn, settings, horizon=horizon, init_mean=init_mean, generator=generator, history=history)
