"""Checks of chapter 4's exercises (video prediction): the order of every rollout frame, the
average precision of the detection read-out and the drift of a rollout from the true representation.
"""
from __future__ import annotations

from typing import Callable

from ._common import _correct

__all__ = ["check_prediction_orders", "check_average_precision", "check_rollout_drift"]


def check_prediction_orders(fn: Callable[[int, int], "object"]) -> None:
    """Exercise 4.1: ``fn(n_frames, K) -> [K+1, T]`` must give the order of every frame of every
    rollout state ``S^(k)`` (predictor calls since ground truth; 0 for the two context frames)."""
    import numpy as np

    from ..rollout import prediction_orders

    for t_len, k in ((10, 4), (10, 1), (6, 8), (3, 2)):
        got = np.asarray(fn(t_len, k))
        want = prediction_orders(t_len, k)
        if got.shape != want.shape:
            raise AssertionError(f"For T = {t_len}, K = {k} return shape {want.shape} (rows k = 0..K, columns t), "
                                 f"got {got.shape}.")
        if not np.array_equal(got, want):
            bad = np.argwhere(got != want)[0]
            k_, t_ = int(bad[0]), int(bad[1])
            hint = ("frames 0 and 1 are copied from the ground truth at every step, so their order stays 0"
                    if t_ < 2 else "frame t at step k is predicted from frames t-2 and t-1 of step k-1, so its "
                    "order is one more than theirs, capped by how far it is from the last true frame (t - 1)")
            raise AssertionError(f"T = {t_len}, K = {k}: entry (k={k_}, t={t_}) should be {want[k_, t_]}, got "
                                 f"{got[k_, t_]}; {hint}.")
    _correct("Frame t of S(k) is a min(t - 1, k)-step-ahead prediction (the reference code's \"parallel\" rollout).")


def check_average_precision(fn: Callable, seed: int = 0) -> None:
    """Exercise 4.2: ``fn(scores [N], labels [N]) -> float`` must be the (non-interpolated) average
    precision that :func:`sklearn.metrics.average_precision_score` computes."""
    import numpy as np
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(seed)
    cases = [(np.array([0.9, 0.8, 0.7, 0.1]), np.array([1, 0, 1, 0])),
             (rng.random(500), (rng.random(500) < 0.05).astype(int)),
             (np.round(rng.random(300), 1), (rng.random(300) < 0.3).astype(int))]   # with ties
    for scores, labels in cases:
        got = fn(scores.copy(), labels.copy())
        want = average_precision_score(labels, scores)
        if not isinstance(got, (float, np.floating)) and not (hasattr(got, "item") and np.ndim(got) == 0):
            raise AssertionError(f"Return one number, got {type(got).__name__}.")
        if abs(float(got) - want) > 1e-6:
            raise AssertionError(f"Expected AP = {want:.4f}, got {float(got):.4f}. Sort by score (descending); at "
                                 "each distinct threshold the precision is weighted by the increase in recall; "
                                 "tied scores enter together.")
    _correct("Your average precision matches scikit-learn's on three cases, including ties.")


def check_rollout_drift(fn: Callable, seed: int = 0) -> None:
    """Exercise 4.3: ``fn(model, x, order) -> float`` must be the mean squared distance between the last
    frame of the rollout state ``S^(order)`` and the true representation of the last frame.

    Tested on a small random :class:`~ebjepa_mini.video.VideoJEPA` (eval mode) and random clips, for
    orders 1, 3 and ``T - 2``; the reference uses :func:`~ebjepa_mini.rollout.rollout`.
    """
    import torch

    from ..presets import VideoSettings
    from ..rollout import rollout, teacher_forced
    from ..video import VideoJEPA

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = VideoJEPA(VideoSettings(enc_width=4, pred_width=4, latent_dim=4, proj_hidden=8, proj_dim=8)).eval()
        x = torch.rand(2, 10, 1, 16, 16)
    with torch.no_grad():
        z = model.encoder(x)
        states = rollout(model.predictor, z, z.shape[1] - 2)
        for order in (1, 3, z.shape[1] - 2):
            want = (states[order][:, -1] - z[:, -1]).pow(2).mean().item()
            got = fn(model, x.clone(), order)
            got = float(got.item() if hasattr(got, "item") else got)
            if abs(got - want) > 1e-5 * max(1.0, abs(want)):
                if order > 1 and abs(got - (teacher_forced(model.predictor, z)[:, -1] - z[:, -1]).pow(2).mean().item()) < 1e-6:
                    raise AssertionError(f"order = {order}: you return the teacher-forced (order-1) error. Roll the "
                                         "predictor out `order` times and take the LAST state, rollout(...)[-1] "
                                         "(or [order]).")
                if abs(got - (states[order] - z).pow(2).mean().item()) < 1e-6:
                    raise AssertionError(f"order = {order}: you average over all frames. Compare only the last frame "
                                         "(index -1 along time), whose order is exactly `order` once order <= T - 2.")
                raise AssertionError(f"order = {order}: expected {want:.6f}, got {got:.6f}. Encode x, roll out `order` "
                                     "steps, and take the mean of (S[:, -1] - z[:, -1])**2.")
    _correct("Your drift is the error of the last frame of S(order) against its true representation.")
