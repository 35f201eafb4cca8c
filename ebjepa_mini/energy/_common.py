"""Private helpers of :mod:`ebjepa_mini.energy`: argument checks and the one-thread context.

Shared by every module of the package (one place, not one copy per module).
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import torch


# ---------------------------------------------------------------- helpers
@contextmanager
def _one_thread():
    """Run tiny-tensor loops on one CPU thread (restored afterwards).

    The toy models have a few thousand parameters: waking extra threads for every small op
    costs more than it saves, and on a busy 2-core machine it made training 10-30x slower.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


# ---------------------------------------------------------------- argument checks
def _check_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


def _check_float(value, name: str, minimum: float = 0.0, allow_equal: bool = False,
                 allow_inf: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)
    ok = ok and (value >= minimum if allow_equal else value > minimum)
    ok = ok and (allow_inf or not math.isinf(value))
    if not ok:
        rel = ">=" if allow_equal else ">"
        extra = " (math.inf allowed)" if allow_inf else ""
        raise ValueError(f"{name} must be a finite number {rel} {minimum}{extra}, got {value!r}")
    return float(value)


def _check_points(y, name: str = "y") -> torch.Tensor:
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape [N, 2], got {type(y).__name__}")
    if y.dim() != 2 or y.shape[1] != 2:
        raise ValueError(f"{name} must have shape [N, 2] (points in the plane), got {tuple(y.shape)}")
    if not y.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {y.dtype}")
    return y


def _check_x(x, n: int) -> torch.Tensor | None:
    if x is None:
        return None
    x = torch.as_tensor(x, dtype=torch.get_default_dtype())
    if x.dim() == 0:
        x = x.expand(n)
    if x.shape != (n,):
        raise ValueError(f"x must be a scalar or have shape [N] = [{n}] (one input per point), got {tuple(x.shape)}")
    if (x < 0).any() or (x > 1).any():
        raise ValueError("x (the horn's input) must lie in [0, 1]")
    return x
