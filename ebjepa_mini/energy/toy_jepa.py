"""The paper's unified JEPA energy and a toy linear JEPA trained on it (chapter 1; paper eqs. 1-5).

:func:`jepa_energy` is ``E(x, x', a) = ||g(f(x), q(a)) - f(x')||^2`` for any encoder ``f``, predictor
``g`` and action encoder ``q``; :func:`train_toy_jepa` trains a linear encoder on it, with or without
a regulariser, to show complete collapse and how a regulariser prevents it.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from ._common import _check_float, _check_int, _one_thread

__all__ = ["jepa_energy", "train_toy_jepa"]


def jepa_energy(f: Callable, g: Callable | None, x: torch.Tensor, x_prime: torch.Tensor,
                a: torch.Tensor | None = None, q: Callable | None = None) -> torch.Tensor:
    """The unified JEPA energy ``E(x, x', a) = ||g(f(x), q(a)) - f(x')||^2`` (paper eq. 1; chapter 1).

    ``L_pred`` is the squared error summed over all non-batch dimensions. The three
    instantiations: image (``g = None``: identity predictor, paper eq. 2), video (``g``
    maps the encoded context frames to the next one, paper eq. 3), action-conditioned
    (``g(z, u)`` with ``u = q(a)``, ``q = None`` meaning the identity, paper eq. 4).

    Args:
        f: encoder, ``x: [B, ...] -> z: [B, ...]`` (e.g. a toy ``nn.Linear``).
        g: predictor; ``None`` is the identity. Called as ``g(z)`` without actions, ``g(z, u)`` with.
        x: context ``[B, ...]``.
        x_prime: target ``[B, ...]``; ``g(f(x), .)`` must have the shape of ``f(x_prime)``.
        a: optional actions ``[B, ...]``.
        q: optional action encoder (only with ``a``); ``None`` is the identity.

    Returns:
        E: ``[B]``, one energy per (x, x', a).
    """
    if not callable(f):
        raise TypeError(f"f (the encoder) must be callable, got {type(f).__name__}")
    if g is not None and not callable(g):
        raise TypeError(f"g (the predictor) must be callable or None, got {type(g).__name__}")
    for name, t in (("x", x), ("x_prime", x_prime)):
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor [B, ...], got {type(t).__name__}")
    if x.shape[0] != x_prime.shape[0]:
        raise ValueError(f"x and x_prime need the same batch size B, got {x.shape[0]} and {x_prime.shape[0]}")
    if q is not None and a is None:
        raise ValueError("q (the action encoder) was given without actions a; pass a, or q=None")
    if a is not None and g is None:
        raise ValueError("actions a need a predictor g(z, u); g=None (identity) cannot use them")
    z, target = f(x), f(x_prime)
    if g is None:
        pred = z
    elif a is None:
        pred = g(z)
    else:
        pred = g(z, a if q is None else q(a))
    if pred.shape != target.shape:
        raise ValueError(f"prediction shape {tuple(pred.shape)} differs from target f(x_prime) "
                         f"shape {tuple(target.shape)}")
    return ((pred - target) ** 2).reshape(pred.shape[0], -1).sum(-1)


def train_toy_jepa(x: torch.Tensor, x_prime: torch.Tensor, steps: int, dim: int = 2, lr: float = 0.5,
                   reg: Callable[[torch.Tensor], torch.Tensor] | None = None, lam: float = 0.0,
                   seed: int = 0) -> dict[str, list[float]]:
    """Train a toy linear encoder on pairs with ``L = mean E(x, x') + lam * R(f(x))`` (paper eq. 5; chapter 1).

    The predictor is the identity (the image instantiation). With ``reg=None`` the only
    way down is to shrink the encoder: every pair, related or not, gets zero energy
    (complete collapse). Chapter 2 passes a regulariser from ``ebjepa_mini.regularizers``.

    Args:
        x, x_prime: two views ``[N, D_in]``.
        steps: SGD steps ``>= 1``.
        dim: embedding dimension ``>= 1``.
        lr: SGD step size ``> 0``.
        reg: optional ``R(z: [N, dim]) -> scalar``.
        lam: weight of ``reg``, ``>= 0``.
        seed: seeds the encoder's initial weights.

    Returns:
        history with ``e_pos`` (mean energy of true pairs), ``e_neg`` (mean energy of
        mismatched pairs), ``z_std`` (mean per-dimension std of ``f(x)``), ``loss``.
    """
    for name, t in (("x", x), ("x_prime", x_prime)):
        if not isinstance(t, torch.Tensor) or t.dim() != 2:
            raise ValueError(f"{name} must be a tensor [N, D_in]")
    if x.shape != x_prime.shape:
        raise ValueError(f"x and x_prime must have the same shape, got {tuple(x.shape)} and {tuple(x_prime.shape)}")
    _check_int(steps, "steps")
    _check_int(dim, "dim")
    _check_float(lr, "lr")
    _check_float(lam, "lam", allow_equal=True)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        f = nn.Linear(x.shape[1], dim)
        perm = torch.randperm(x.shape[0])
    opt = torch.optim.SGD(f.parameters(), lr=lr)
    hist: dict[str, list[float]] = {"loss": [], "e_pos": [], "e_neg": [], "z_std": []}
    with _one_thread():
        for _ in range(steps):
            e_pos = jepa_energy(f, None, x, x_prime).mean()
            loss = e_pos + (lam * reg(f(x)) if reg is not None and lam > 0 else 0.0)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                hist["loss"].append(float(loss))
                hist["e_pos"].append(e_pos.item())
                hist["e_neg"].append(jepa_energy(f, None, x, x_prime[perm]).mean().item())
                hist["z_std"].append(f(x).std(0).mean().item())
    return hist
