"""Linear probes on frozen features: how much information an encoder kept.

Chapter 2 and chapter 3 read an encoder's quality off a multinomial logistic regression
trained on its frozen features (train split) and scored on held-out images (test split).
The fit is full-batch LBFGS in float64 on standardised features, which converges to the
same optimum every time (the loss is convex), so two encoders are compared, not two
optimiser runs. The weight decay is picked on a held-out slice of the training split.
Chapter 5 asks the same question of continuous quantities (where is the dot, the wall, the door?)
with :func:`ridge_probe`, a closed-form linear regression.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["ProbeResult", "fit_logistic", "linear_probe", "linear_probe_accuracy", "RegressionProbe", "ridge_probe"]


@dataclass
class ProbeResult:
    """Outcome of :func:`linear_probe`."""

    test_acc: float
    train_acc: float
    weight_decay: float
    val_acc: dict            # {weight_decay: held-out accuracy} of the selection step

    def __str__(self) -> str:
        return f"probe top-1 {self.test_acc:.1%} (train {self.train_acc:.1%}, wd {self.weight_decay:g})"


def _labels(y) -> torch.Tensor:
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y)
    if y.dim() != 1:
        raise ValueError(f"labels must be a 1-D array of class indices, got shape {tuple(y.shape)}")
    return y.long().cpu()


def fit_logistic(x: torch.Tensor, y: torch.Tensor, num_classes: int, weight_decay: float = 1e-4,
                 max_iter: int = 300) -> tuple[torch.Tensor, torch.Tensor]:
    """Multinomial logistic regression by full-batch LBFGS (float64, strong-Wolfe line search).

    Minimises ``mean_n CE(x_n W + b, y_n) + weight_decay * ||W||^2`` (bias not penalised).

    Args:
        x: features ``[N, F]`` (standardise them first).
        y: class indices ``[N]`` in ``[0, num_classes)``.
        num_classes: C >= 2.
        weight_decay: >= 0.
        max_iter: LBFGS iterations.

    Returns:
        ``(W [F, C], b [C])`` in float64.
    """
    if weight_decay < 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    x = x.to(torch.float64)
    w = torch.zeros(x.shape[1], num_classes, dtype=torch.float64, device=x.device, requires_grad=True)
    b = torch.zeros(num_classes, dtype=torch.float64, device=x.device, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1, max_iter=max_iter, history_size=20, line_search_fn="strong_wolfe",
                            tolerance_grad=1e-9, tolerance_change=1e-12)
    y = y.to(x.device)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(x @ w + b, y) + weight_decay * w.pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


def _acc(x, y, w, b) -> float:
    return float(((x.to(torch.float64) @ w + b).argmax(1) == y.to(x.device)).double().mean())


def linear_probe(train_x, train_y, test_x, test_y, weight_decays=(1e-5, 1e-4, 1e-3, 1e-2), val_frac: float = 0.1,
                 max_iter: int = 300, seed: int = 0) -> ProbeResult:
    """Linear probe on frozen features: pick weight decay on a held-out slice, refit, test once.

    Features are standardised with the training split's mean and std. The selection split is a
    fixed random ``val_frac`` of the training rows (``seed``); with one weight decay given, no
    selection is made.

    Args:
        train_x, test_x: features ``[N, F]`` / ``[M, F]`` (torch or NumPy).
        train_y, test_y: class indices ``[N]`` / ``[M]``.
        weight_decays: candidate L2 weights (non-empty).
        val_frac: fraction of the training rows held out for the selection, in ``(0, 1)``.
        max_iter: LBFGS iterations per fit.

    Returns:
        :class:`ProbeResult` with test and train top-1 accuracy.
    """
    tr = torch.as_tensor(np.asarray(train_x) if not isinstance(train_x, torch.Tensor) else train_x)
    te = torch.as_tensor(np.asarray(test_x) if not isinstance(test_x, torch.Tensor) else test_x)
    ytr, yte = _labels(train_y), _labels(test_y)
    if tr.dim() != 2 or te.dim() != 2 or tr.shape[1] != te.shape[1]:
        raise ValueError(f"train_x and test_x must be [N, F] and [M, F] with the same F, got "
                         f"{tuple(tr.shape)} and {tuple(te.shape)}")
    if len(ytr) != len(tr) or len(yte) != len(te):
        raise ValueError("train_y/test_y must have one label per row of train_x/test_x")
    if not weight_decays:
        raise ValueError("weight_decays must name at least one value")
    if not 0 < val_frac < 1:
        raise ValueError(f"val_frac must be in (0, 1), got {val_frac!r}")
    tr = tr.detach().to(torch.float64)
    te = te.detach().to(torch.float64).to(tr.device)
    mu, sd = tr.mean(0), tr.std(0) + 1e-8
    tr, te = (tr - mu) / sd, (te - mu) / sd
    c = int(max(int(ytr.max()), int(yte.max()))) + 1
    c = max(c, 2)
    val_acc = {}
    if len(weight_decays) > 1:
        perm = torch.randperm(len(tr), generator=torch.Generator().manual_seed(seed))
        n_val = max(1, int(round(val_frac * len(tr))))
        vi, fi = perm[:n_val], perm[n_val:]
        for wd in weight_decays:
            w, b = fit_logistic(tr[fi], ytr[fi], c, wd, max_iter)
            val_acc[float(wd)] = _acc(tr[vi], ytr[vi], w, b)
        best = max(val_acc, key=lambda k: (val_acc[k], k))
    else:
        best = float(weight_decays[0])
    w, b = fit_logistic(tr, ytr, c, best, max_iter)
    return ProbeResult(_acc(te, yte, w, b), _acc(tr, ytr, w, b), best, val_acc)


def linear_probe_accuracy(train_x, train_y, test_x, test_y, weight_decay: float = 1e-4, max_iter: int = 300) -> float:
    """Top-1 test accuracy of one LBFGS logistic-regression fit (no weight-decay selection)."""
    return linear_probe(train_x, train_y, test_x, test_y, (weight_decay,), max_iter=max_iter).test_acc


@dataclass
class RegressionProbe:
    """Outcome of :func:`ridge_probe`: test mean absolute error per target, and the error of the
    best constant guess (the training mean) for comparison. ``kept = 1 - mae / baseline_mae``: 1 is a
    perfect read-out, 0 is no better than guessing."""

    mae: np.ndarray
    baseline_mae: np.ndarray

    @property
    def kept(self) -> np.ndarray:
        return 1.0 - self.mae / self.baseline_mae


def ridge_probe(train_x, train_y, test_x, test_y, ridge: float = 1e-3) -> RegressionProbe:
    """Linear regression (ridge, closed form, float64) from frozen features to continuous targets.

    Features are standardised with the training split's statistics; the bias is not penalised.

    Args:
        train_x, test_x: features ``[N, F]`` / ``[M, F]`` (torch or NumPy).
        train_y, test_y: targets ``[N, T]`` / ``[M, T]``.
        ridge: L2 weight (>= 0) on the standardised coefficients.

    Returns:
        :class:`RegressionProbe` with per-target test MAE ``[T]`` and the constant guess's MAE ``[T]``.
    """
    xs = [torch.as_tensor(np.asarray(v) if not isinstance(v, torch.Tensor) else v).detach().cpu().double()
          for v in (train_x, train_y, test_x, test_y)]
    xtr, ytr, xte, yte = xs
    if xtr.dim() != 2 or xte.dim() != 2 or xtr.shape[1] != xte.shape[1]:
        raise ValueError(f"train_x and test_x must be [N, F] and [M, F] with the same F, got "
                         f"{tuple(xtr.shape)} and {tuple(xte.shape)}")
    if ytr.dim() != 2 or yte.dim() != 2 or len(ytr) != len(xtr) or len(yte) != len(xte) or ytr.shape[1] != yte.shape[1]:
        raise ValueError(f"train_y/test_y must be [N, T]/[M, T] matching the features, got "
                         f"{tuple(ytr.shape)} and {tuple(yte.shape)}")
    if not ridge >= 0:
        raise ValueError(f"ridge must be >= 0, got {ridge!r}")
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-8
    a = torch.cat([(xtr - mu) / sd, torch.ones(len(xtr), 1, dtype=torch.float64)], 1)
    b = torch.cat([(xte - mu) / sd, torch.ones(len(xte), 1, dtype=torch.float64)], 1)
    pen = torch.eye(a.shape[1], dtype=torch.float64) * ridge * len(a)
    pen[-1, -1] = 0.0
    w = torch.linalg.solve(a.T @ a + pen + 1e-9 * torch.eye(a.shape[1], dtype=torch.float64), a.T @ ytr)
    mae = (b @ w - yte).abs().mean(0)
    base = (yte - ytr.mean(0)).abs().mean(0)
    return RegressionProbe(mae.numpy(), base.numpy())
