"""Checks of chapter 4's exercises (video prediction): the order of every rollout frame and the
average precision of the detection read-out.
"""
from __future__ import annotations

from typing import Callable

from ._common import _correct

__all__ = ["check_prediction_orders", "check_average_precision"]


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
