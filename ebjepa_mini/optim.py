"""Optimisers: LARS as used by EB-JEPA's image example (paper Table 5;
the update rule follows the reference code (see :doc:`/book/paper_and_book`)), taught in chapter 3.

LARS ("layer-wise adaptive rate scaling") rescales each weight matrix's step so that it is
at most a fixed fraction ``eta`` of the weight's own norm: layers with small weights and
large gradients cannot be blown away by a large global learning rate (0.3 in EB-JEPA).
"""
from __future__ import annotations

import math
from typing import Iterable

import torch

__all__ = ["LARS"]


class LARS(torch.optim.Optimizer):
    """LARS with "clip" trust ratio, momentum and decoupled exclusion of 1-D parameters.

    For a parameter ``p`` with at least 2 dimensions and gradient ``g`` (the reference code's rule)::

        trust  = eta * ||p|| / (||g|| + wd * ||p|| + 1e-8)
        factor = min(trust / lr, 1)
        d      = factor * (g + wd * p)
        b      = momentum * b + d        (b starts as the first d)
        p      = p - lr * b

    1-D parameters (biases, BatchNorm scales and shifts) take plain SGD with momentum on ``g``
    (no weight decay, no trust ratio). With ``factor`` clipped at 1 the effective step of a layer
    is ``min(lr, eta * ||p|| / (||g|| + wd ||p||)) * ||g + wd p||``.

    Args:
        params: parameters or parameter groups.
        lr: learning rate (> 0); the schedule multiplies it.
        momentum: in ``[0, 1)``.
        weight_decay: >= 0, applied to >= 2-D parameters only.
        eta: trust coefficient (> 0); EB-JEPA uses 0.02.
    """

    def __init__(self, params: Iterable, lr: float = 0.3, momentum: float = 0.9, weight_decay: float = 1e-4,
                 eta: float = 0.02):
        if not (isinstance(lr, (int, float)) and lr > 0 and math.isfinite(lr)):
            raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        if eta <= 0:
            raise ValueError(f"eta (trust coefficient) must be > 0, got {eta!r}")
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, mom, wd, eta = group["lr"], group["momentum"], group["weight_decay"], group["eta"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if p.dim() >= 2:
                    p_norm = p.norm()
                    g_norm = g.norm()
                    trust = eta * p_norm / (g_norm + wd * p_norm + 1e-8)
                    factor = torch.clamp(trust / lr, max=1.0)
                    d = factor * (g + wd * p)
                else:
                    d = g.clone()
                state = self.state[p]
                if "momentum_buffer" not in state:
                    buf = state["momentum_buffer"] = d.clone()
                else:
                    buf = state["momentum_buffer"]
                    buf.mul_(mom).add_(d)
                p.add_(buf, alpha=-lr)
        return loss

