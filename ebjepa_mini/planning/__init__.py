"""Planning in latent space: MPPI and CEM over batched world-model rollouts (chapter 6; paper eq. 14, Alg. 1).

Planning is inference in an energy-based model whose variable is the action sequence: given the
current observation ``x_0`` and a goal ``x_g``, find actions ``a_{0:H}`` that minimise the planning
energy (:func:`~ebjepa_mini.planning.optimizers.planning_energy`, paper eq. 14)::

    E(a) = Σ_{t=1..H} d(ẑ_t, z_g),   ẑ_0 = f_θ(x_0),  ẑ_{t+1} = g_φ(ẑ_t, a_t),  z_g = f_θ(x_g)

Both optimisers below are sampling-based ("zeroth-order"): they draw ``N`` action sequences from a
Gaussian, score them with ``cost_fn``, keep the ``Q`` cheapest (the elites) and refit the Gaussian.

* :func:`~ebjepa_mini.planning.optimizers.mppi` moves the mean to the elites weighted by ``w_i ∝ exp(-(S_i - S_min) / τ)``
  (the paper's convention: τ DIVIDES the cost gap; τ -> 0 keeps only the best elite, τ -> ∞ averages
  the elites uniformly) and, as the paper's Algorithm 1, keeps σ fixed; ``update_std=True`` (the
  book's planner, ``PlanSettings.update_std``) also refits σ, floored at ``min_std``. The reference
  code multiplies by τ = 0.005 instead, which makes its weights almost uniform; here that
  corresponds to a large τ.
* :func:`~ebjepa_mini.planning.optimizers.cem` refits with the plain mean and standard deviation of the elites.

Both return the final mean (paper Alg. 1). The reference MPPI executes a randomly drawn elite
instead and restarts from zero at every replan (``PlanSettings.execute``, ``warm_start``); :func:`~ebjepa_mini.planning.episodes.evaluate` can warm
start from the previous plan. :data:`~ebjepa_mini.presets.PAPER_PLANNER` and
:data:`~ebjepa_mini.presets.REFERENCE_PLANNER` are the paper's and the reference code's planners as settings.

``cost_fn`` maps actions ``[N, H, A]`` to costs ``[N]``. For many episodes at once pass a batched
``init_mean`` of shape ``[E, H, A]``: ``cost_fn`` then maps ``[E, N, H, A]`` to ``[E, N]`` and the
result is ``[E, H, A]``.

To ask *why* a planner fails, :func:`~ebjepa_mini.planning.yardsticks.energy_breakdown` scores given plans (e.g. the hand-made
door and wall plans of :func:`~ebjepa_mini.planning.yardsticks.door_and_wall_plans`) with eq. 14 three ways: on true positions,
with the encoder on the true frames, and with the model's imagined rollout (chapter 6, § 6.5).
:func:`~ebjepa_mini.planning.episodes.evaluate` can also plan with the true physics in place of the predictor
(:func:`~ebjepa_mini.planning.yardsticks.oracle_cost_fn`), scored on true positions or by the model's own encoder
(:func:`~ebjepa_mini.planning.yardsticks.encoder_energy_map`): the second is the planner with a perfect predictor.
"""
from .episodes import PlanResult, evaluate
from .optimizers import (COSTS, PLANNERS, cem, clip_norm, latent_cost_fn, latent_distance, mppi, plan, plan_step,
                         planning_energy)
from .yardsticks import (ORACLES, SCORERS, EnergyMap, door_and_wall_plans, encoder_energy_map, energy_breakdown,
                         imagined_positions, map_grid, oracle_cost_fn, rollout_drift, wall_push_test,
                         waypoint_actions, world_diagnostics)

__all__ = ["mppi", "cem", "plan", "plan_step", "planning_energy", "latent_distance", "latent_cost_fn", "oracle_cost_fn", "clip_norm",
           "PlanResult", "evaluate", "PLANNERS", "COSTS", "ORACLES", "SCORERS", "EnergyMap", "map_grid",
           "encoder_energy_map", "waypoint_actions", "door_and_wall_plans", "energy_breakdown", "wall_push_test",
           "imagined_positions", "rollout_drift", "world_diagnostics"]
