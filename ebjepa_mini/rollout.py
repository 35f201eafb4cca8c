"""The K-step rollout of a video predictor and its schedule (chapter 4; paper eqs. 9-10).

A pair predictor (:class:`~ebjepa_mini.nets.PairPredictor`) maps two consecutive frame representations
to the next one. :func:`rollout` feeds it its own predictions ``K`` times in the reference's "parallel"
mode, :func:`teacher_forced` feeds it only ground truth, and :func:`prediction_orders` counts, for every
frame of every rollout state ``S^(k)``, the predictor calls since the last true frame. The video JEPA's
loss and experiment that use them are in :mod:`ebjepa_mini.video`; the world model's action-conditioned
rollout is :meth:`~ebjepa_mini.world.WorldModel.rollout`.
Representations are ``z: [B, T, D, H, W]`` (time at dim 1).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .nets import check_clip

__all__ = ["rollout", "teacher_forced", "prediction_orders"]


def rollout(predictor: nn.Module, z: torch.Tensor, steps: int) -> list[torch.Tensor]:
    """K-step rollout in the reference's "parallel" mode (paper eqs. 9-10, as coded in the reference).

    ``S^(0) = z``; for ``k = 1..K`` the predictor runs on every adjacent pair of ``S^(k-1)`` and
    ``S^(k) = [z_0, z_1, ẑ_2, ..., ẑ_{T-1}]`` keeps the two ground-truth context frames and the
    predictions of frames ``2..T-1`` (the pair that would predict frame ``T`` is not run; the
    reference runs it and drops its output). Frame ``t`` of ``S^(k)`` is a prediction of order
    ``min(t - 1, k)`` (:func:`prediction_orders`): a ``k``-step-ahead prediction wherever ``t > k``.
    Nothing is detached: gradients flow through all ``K`` passes.

    Args:
        predictor: a :class:`~ebjepa_mini.nets.PairPredictor` (``[B, T, D, H, W] -> [B, T-1, D, H, W]``).
        z: encoder outputs ``[B, T, D, H, W]`` with ``T >= 3``.
        steps: K >= 0.

    Returns:
        ``[S^(0), S^(1), ..., S^(K)]``, each ``[B, T, D, H, W]``.
    """
    check_clip(z, "z", min_frames=3)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0 (the number of rollout steps K), got {steps!r}")
    states = [z]
    s = z
    for _ in range(steps):
        pred = predictor(s[:, :-1])                          # pairs (0,1) .. (T-3,T-2) -> frames 2 .. T-1
        s = torch.cat([z[:, :2], pred], dim=1)
        states.append(s)
    return states


def teacher_forced(predictor: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """One-step predictions from ground-truth pairs only (teacher forcing): ``[B, T-2, D, H, W]``
    for frames ``2..T-1``. Equal to frames ``2:`` of ``rollout(predictor, z, 1)[1]``."""
    check_clip(z, "z", min_frames=3)
    return predictor(z[:, :-1])


def prediction_orders(n_frames: int, steps: int) -> np.ndarray:
    """Order (number of predictor calls since ground truth) of every frame of ``S^(0..K)``.

    Returns:
        ``int [K+1, T]``: entry ``(k, t)`` is ``min(t - 1, k)`` for ``t >= 2`` and 0 for the two
        ground-truth context frames (paper eq. 9's "order", counted in the reference's "parallel" mode).
    """
    if isinstance(n_frames, bool) or not isinstance(n_frames, int) or n_frames < 3:
        raise ValueError(f"n_frames must be an int >= 3, got {n_frames!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    k = np.arange(steps + 1)[:, None]
    t = np.arange(n_frames)[None, :]
    return np.where(t >= 2, np.minimum(t - 1, k), 0)
