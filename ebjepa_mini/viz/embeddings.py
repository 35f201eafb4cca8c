"""Chapters 2 and 3 figures: collapse, per-dimension spreads, spectra, effective rank, the
Epps-Pulley slice and the image runs."""
from __future__ import annotations

import math as _math

import matplotlib.pyplot as plt
import numpy as _np
import torch as _torch

from .style import PALETTE, SETTING_NAMES, _family_color, _noaxis, _setting_color, _to_np

__all__ = ["collapse_dashboard", "compare_collapse", "embedding_pca", "show_views", "plot_epps_pulley",
           "compare_image_runs", "plot_image_training"]


def collapse_dashboard(history: dict, z, gamma: float = 1.0, fig=None, title: str | None = None):
    """Four live panels of one run: effective rank, loss terms, per-dimension std vs the hinge, spectrum.

    Args:
        history: a :class:`~ebjepa_mini.collapse.CollapseExperiment` history (dict of lists).
        z: current embeddings ``[N, D]`` of the evaluation images.
        gamma: the VICReg hinge (paper eq. 6), drawn on the std panel.
        fig: an existing ``matplotlib.figure.Figure`` to draw into (the widget reuses one).
    """
    from ..metrics import covariance_spectrum, per_dim_std

    if fig is None:  # a pyplot figure, shown by plt.show(); the widget passes its own Figure (thread-safe)
        fig = plt.figure(figsize=(11, 2.9), layout="constrained")
    fig.clear()
    axes = fig.subplots(1, 4)
    label = history["label"][-1] if history.get("label") else "none"
    col = _setting_color(label)
    d = z.shape[1]
    ax = axes[0]
    ax.plot(history["eval_step"], history["effective_rank"], color=col, lw=2, label="RankMe (uncentred)")
    if history.get("effective_rank_centered"):
        ax.plot(history["eval_step"], history["effective_rank_centered"], color=col, lw=1, ls="--",
                label="centred")
    ax.set(xlabel="step", ylabel="effective rank", ylim=(0, d * 1.05), title="effective rank")
    ax.axhline(d, color="k", lw=0.6, ls=":")
    ax.legend(loc="lower left", fontsize=7)
    ax = axes[1]
    for key, c in (("invariance", PALETTE["data"]), ("variance", PALETTE["variance"]),
                   ("covariance", PALETTE["covariance"]), ("sigreg", PALETTE["sigreg"])):
        if history.get(key):
            ax.plot(history["step"], _np.maximum(history[key], 1e-8), color=c, lw=1, label=key)
    ax.set(xlabel="step", ylabel="term value (unweighted)", yscale="log", title="loss terms")
    if ax.lines:
        ax.legend(fontsize=7, loc="lower left")
    else:
        ax.text(0.5, 0.5, "not trained yet", ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax = axes[2]
    std = _np.sort(per_dim_std(z))[::-1]
    ax.bar(_np.arange(d), std, color=col, width=0.9)
    ax.axhline(gamma, color="k", ls="--", lw=1, label=f"hinge γ = {gamma:g}")
    ax.set(xlabel="dimension (sorted)", ylabel="std", title="per-dimension std")
    ax.set_ylim(0, max(1.6 * gamma, float(std.max()) * 1.1))
    ax.legend(fontsize=7)
    ax = axes[3]
    ev = covariance_spectrum(z)
    ax.semilogy(_np.arange(1, d + 1), _np.maximum(ev, 1e-12), "o-", color=col, ms=3, lw=1)
    ax.set(xlabel="eigenvalue index", ylabel="eigenvalue", title="covariance spectrum")
    if title:
        fig.suptitle(title)
    return fig


def compare_collapse(runs: dict, gamma: float = 1.0):
    """Side-by-side comparison of several settings (chapter 2's static figure).

    Args:
        runs: ``{label: (history, z)}`` with labels such as ``"none"``, ``"variance"``, ``"vicreg"``, ``"sigreg"``.
    """
    from ..metrics import covariance_spectrum, per_dim_std

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), layout="constrained")
    for label, (hist, z) in runs.items():
        c = _setting_color(label)
        name = SETTING_NAMES.get(label, label)
        axes[0].plot(hist["eval_step"], hist["effective_rank"], color=c, lw=2, label=name)
        std = _np.sort(per_dim_std(z))[::-1]
        axes[1].plot(_np.arange(1, len(std) + 1), std, "o-", color=c, ms=3, lw=1.2, label=name)
        ev = covariance_spectrum(z)
        axes[2].semilogy(_np.arange(1, len(ev) + 1), _np.maximum(ev / max(ev.sum(), 1e-30), 1e-12), "o-",
                         color=c, ms=3, lw=1.2, label=name)
    d = next(iter(runs.values()))[1].shape[1]
    axes[0].axhline(d, color="k", lw=0.6, ls=":")
    axes[0].set(xlabel="training step", ylabel="effective rank (RankMe)", title="effective rank during training",
                ylim=(0, d * 1.05))
    axes[1].axhline(gamma, color="k", ls="--", lw=1, label=f"hinge γ = {gamma:g}")
    axes[1].set(xlabel="dimension (sorted by std)", ylabel="std", yscale="symlog", title="per-dimension std",
                )
    axes[1].set_yscale("symlog", linthresh=1e-2)
    axes[2].set(xlabel="eigenvalue index", ylabel="share of total variance", title="covariance spectrum")
    axes[0].legend(fontsize=8)
    axes[1].legend(fontsize=8)
    return fig


def embedding_pca(runs: dict, labels, max_points: int = 800):
    """2-D PCA of each setting's embeddings, coloured by digit class (a qualitative panel).

    Args:
        runs: ``{label: z}`` embeddings ``[N, D]``.
        labels: class label of each row ``[N]``.
    """
    labels = _np.asarray(labels)[:max_points]
    fig, axes = plt.subplots(1, len(runs), figsize=(3.1 * len(runs), 3.0), layout="constrained", squeeze=False)
    for ax, (label, z) in zip(axes[0], runs.items()):
        zz = _to_np(z)[:max_points].astype(_np.float64)
        zc = zz - zz.mean(0)
        _, s, vt = _np.linalg.svd(zc, full_matrices=False)
        p = zc @ vt[:2].T
        sc = ax.scatter(p[:, 0], p[:, 1], c=labels, cmap="tab10", s=5, vmin=-0.5, vmax=9.5)
        ax.set_title(SETTING_NAMES.get(label, label), color=_setting_color(label), fontsize=10)
        spread = float(_np.sqrt((zc ** 2).sum(1).mean()))
        ax.set(xlabel="PC 1", ylabel="PC 2")
        ax.text(0.02, 0.02, f"spread {spread:.2g}", transform=ax.transAxes, fontsize=8)
    fig.colorbar(sc, ax=axes[0, -1], label="digit", ticks=range(10))
    return fig


def show_views(x, v1, v2, n: int = 8):
    """Rows: original images, first view, second view (standardised views are re-scaled for display)."""
    fig, axes = plt.subplots(3, n, figsize=(1.2 * n, 3.8), layout="constrained")
    rows = [("original", x), ("view 1", v1), ("view 2", v2)]
    for r, (name, t) in enumerate(rows):
        t = _to_np(t)[:n]
        for i in range(n):
            img = t[i].transpose(1, 2, 0)
            img = (img - img.min()) / max(float(img.max() - img.min()), 1e-8)
            axes[r, i].imshow(img.squeeze(), cmap="gray" if img.shape[-1] == 1 else None)
            _noaxis(axes[r, i])
        axes[r, 0].set_ylabel(name)
    return fig



def plot_epps_pulley(samples: dict, t_max: float = 4.0):
    """Empirical vs Gaussian characteristic function on one slice (paper eq. 8, chapter 3).

    Args:
        samples: ``{label: (p [N], color)}``: one-dimensional projections ``p = Z a`` of embeddings.
        t_max: the CF is drawn for ``u`` in ``[-t_max, t_max]``; the 10 quadrature knots on ``[-3, 3]``
            are marked.

    Returns:
        The figure: left, histograms against the N(0, 1) density; right, ``Re chi_hat(u)`` and ``Im chi_hat(u)``
        against ``chi(u) = exp(-u^2/2)`` (the book's notation), with each slice's Epps-Pulley value in the legend.
    """
    from ..regularizers import EPPS_PULLEY_KNOTS, epps_pulley

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 3.6), width_ratios=(1, 1.5))
    grid = _np.linspace(-4, 4, 200)
    ax0.plot(grid, _np.exp(-grid ** 2 / 2) / _math.sqrt(2 * _math.pi), color="black", lw=1.5, label="N(0, 1)")
    t = _np.linspace(-t_max, t_max, 241)
    ax1.plot(t, _np.exp(-t ** 2 / 2), color="black", lw=1.5, label=r"$\chi(u)=e^{-u^2/2}$")
    lo, hi, k = EPPS_PULLEY_KNOTS
    for label, (y, color) in samples.items():
        y = _to_np(y).astype(_np.float64).ravel()
        ep = float(epps_pulley(_torch.as_tensor(y).view(-1, 1))[0])
        ax0.hist(_np.clip(y, -4, 4), bins=40, range=(-4, 4), density=True, alpha=0.45, color=color, label=label)
        ty = _np.outer(t, y)
        ax1.plot(t, _np.cos(ty).mean(1), color=color, lw=2, label=f"Re χ̂(u), {label}: G = {ep:.3g}")
        ax1.plot(t, _np.sin(ty).mean(1), color=color, lw=1, ls="--", label=f"Im χ̂(u), {label}")
    for tk in _np.linspace(lo, hi, k):
        ax1.axvline(tk, color="0.8", lw=0.6, zorder=0)
    ax0.set(xlabel="projected value p = z·a", ylabel="density", title="one random slice")
    ax1.set(xlabel="u (grey: the 10 quadrature knots)", ylabel="characteristic function",
            title="empirical vs Gaussian CF")
    ax0.legend(fontsize=8)
    ax1.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    return fig


def compare_image_runs(runs: dict, title: str | None = None):
    """Probe accuracy, effective rank and covariance spectrum of several :class:`~ebjepa_mini.image.ImageRun`.

    Args:
        runs: ``{name: ImageRun}`` (``random_init`` drawn grey, VICReg blue, SIGReg vermillion;
            sensitivity runs hatched).
    """
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    names = list(runs)
    colors = [_family_color(n, getattr(runs[n], "family", None) if n != "random_init" else "none") for n in names]
    hatches = ["" if n in ("vicreg", "sigreg", "random_init") else "//" for n in names]
    acc = [100 * runs[n].probe_acc for n in names]
    rk = [runs[n].effective_rank for n in names]
    for ax, vals, lab in ((axes[0], acc, "linear-probe top-1 (%)"), (axes[1], rk, "effective rank (RankMe)")):
        bars = ax.bar(range(len(names)), vals, color=colors, hatch=hatches, edgecolor="white")
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel(lab)
        for b_, v in zip(bars, vals):
            ax.text(b_.get_x() + b_.get_width() / 2, v, f"{v:.1f}", ha="center", va="bottom", fontsize=8)
    axes[0].set_title("probe on frozen encoder features")
    axes[1].set_title("effective rank of test features")
    for n, c, h in zip(names, colors, hatches):
        ev = _np.asarray(runs[n].spectrum, dtype=float)
        ev = ev / max(ev.sum(), 1e-30)
        axes[2].semilogy(_np.arange(1, len(ev) + 1), _np.clip(ev, 1e-8, None), color=c, lw=2 if not h else 1,
                         ls="-" if not h else "--", label=n)
    axes[2].set(xlabel="eigenvalue index", ylabel="share of variance", title="covariance spectrum (encoder)")
    axes[2].legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_image_training(runs: dict, terms=("invariance", "variance", "sigreg")):
    """Loss terms per step of trained :class:`~ebjepa_mini.image.ImageRun` objects (log scale)."""
    runs = {n: r for n, r in runs.items() if r.history}
    fig, axes = plt.subplots(1, len(terms), figsize=(4.2 * len(terms), 3.3))
    for ax, term in zip(_np.atleast_1d(axes), terms):
        for n, r in runs.items():
            if term in r.history:
                ls = "-" if n in ("vicreg", "sigreg") else "--"
                ax.semilogy(r.history["step"], _np.clip(r.history[term], 1e-8, None),
                            color=_family_color(n, r.family), ls=ls, label=n)
        ax.set(xlabel="step", ylabel=term, title=f"{term} term")
        if ax.lines:
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
