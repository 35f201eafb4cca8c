"""Chapter 1 figures: energies and free energies of the toy world, inference, training, toy JEPA.

Every heat-map uses ``ENERGY_CMAP`` with a shared, clipped colour scale so panels compare.
"""
from __future__ import annotations

import math as _math

import matplotlib.pyplot as plt
import numpy as _np
import torch as _torch

from .. import energy as _energy
from .style import ENERGY_CMAP, PALETTE, _to_np

__all__ = ["plot_energy_map", "plot_toy_world", "plot_inference", "plot_free_energy_beta",
           "plot_free_energy_betas", "plot_horn", "plot_trained_energies", "plot_toy_jepa_collapse"]


def _draw_ellipse(ax, x=None, color="white", lw=1.0, label=None):
    z = _torch.linspace(0, 2 * _math.pi, 200)
    pts = _energy.ellipse_decoder(z) if x is None else _energy.horn_decoder(_torch.full_like(z, x), z)
    ax.plot(*_to_np(pts).T, ls="--", color=color, lw=lw, label=label)


def plot_energy_map(values, y1, y2, ax=None, title=None, data=None, vmax=3.0, colorbar=True,
                    cbar_label="energy", manifold=True):
    """Heat-map of an energy (or free energy) over the toy world's plane (chapter 1).

    Args:
        values: ``[n*n]`` or ``[n, n]`` energies on :func:`~ebjepa_mini.energy.toy.make_grid` points.
        y1, y2: ``[n]`` grid axes.
        ax: axes to draw into (a new figure if ``None``).
        title: panel title.
        data: optional points ``[N, 2]`` drawn as small dots.
        vmax: top of the colour scale (energies above it are clipped; the bar shows an arrow).
        colorbar: add a colour bar labelled ``cbar_label``.
        manifold: draw the true ellipse as a dashed line.

    Returns:
        The ``QuadMesh`` (pass it to ``fig.colorbar`` for a shared bar).
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 3.6))
    n1, n2 = len(y1), len(y2)
    grid = _to_np(values).reshape(n2, n1)
    mesh = ax.pcolormesh(_to_np(y1), _to_np(y2), grid, cmap=ENERGY_CMAP, vmin=0.0, vmax=vmax, shading="auto")
    if manifold:
        _draw_ellipse(ax)
    if data is not None:
        ax.scatter(*_to_np(data).T, s=6, color=PALETTE["data"], edgecolor="none", label="data")
    ax.set(xlabel="$y_1$", ylabel="$y_2$", aspect="equal", title=title)
    ax.grid(False)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label=cbar_label, extend="max" if grid.max() > vmax else "neither",
                           shrink=0.85)
    return mesh


def plot_toy_world(y, z_marks=8):
    """The toy world: data ``y`` and the decoder ``y_tilde(zeta)`` with a few latent values marked.

    Args:
        y: data ``[N, 2]``.
        z_marks: how many latent values to mark on the ellipse.

    Returns:
        The figure.
    """
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    ax.scatter(*_to_np(y).T, s=8, color=PALETTE["data"], label="data $y$")
    _draw_ellipse(ax, color=PALETTE["model"], lw=1.5, label=r"decoder $\tilde y(\zeta)$")
    z = _energy.latent_grid(z_marks)
    pts = _to_np(_energy.ellipse_decoder(z))
    ax.scatter(*pts.T, s=30, color=PALETTE["model"], zorder=3)
    for zi, (p1, p2) in zip(_to_np(z), pts):
        frac = f"{zi / _math.pi:.3g}"
        text = "ζ=0" if frac == "0" else "ζ=$\\pi$" if frac == "1" else f"ζ={frac}$\\pi$"
        ax.annotate(text, (p1, p2), textcoords="offset points",
                    xytext=(14 * _np.sign(p1 + 1e-9), 8 * _np.sign(p2 + 1e-9)), fontsize=7, ha="center")
    ax.set(xlabel="$y_1$", ylabel="$y_2$", aspect="equal", title="The toy world: data on an ellipse",
           xlim=(-2.4, 2.4), ylim=(-1.4, 1.4))
    ax.legend(loc="upper right", fontsize=8)
    return fig


def plot_inference(F, y1, y2, y_paths, z, e_profile, z_paths, vmax=3.0):
    """Inference as energy minimisation: gradient paths of ``y`` on ``F_inf`` and of ``z`` on ``E(y, z)``.

    Args:
        F: ``[n*n]`` zero-temperature free energy on the grid.
        y1, y2: grid axes ``[n]``.
        y_paths: ``[T+1, M, 2]`` gradient-descent paths of ``y``.
        z: ``[K]`` latent values; e_profile: ``[K]`` energies ``E(y*, z)`` of one point ``y*``.
        z_paths: ``[T+1, S]`` gradient-descent paths of ``z`` for that point from S starts.

    Returns:
        The figure.
    """
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [1.15, 1]})
    plot_energy_map(F, y1, y2, ax=a0, title=r"Descending $F_\infty(y)$: paths of $y$",
                    cbar_label=r"$F_\infty(y)$", vmax=vmax)
    paths = _to_np(y_paths)
    for m in range(paths.shape[1]):
        a0.plot(paths[:, m, 0], paths[:, m, 1], "-", color="white", lw=1.2)
        a0.plot(paths[0, m, 0], paths[0, m, 1], "o", color=PALETTE["sigreg"], ms=4)
        a0.plot(paths[-1, m, 0], paths[-1, m, 1], "o", color=PALETTE["model"], ms=4)
    zz, ee = _to_np(z), _to_np(e_profile)
    order = _np.argsort(zz)
    zc, ec = _np.append(zz[order], zz[order][0] + 2 * _math.pi), _np.append(ee[order], ee[order][0])  # close the circle
    a1.plot(zc, ec, color=PALETTE["none"], label=r"$E(y^*, \zeta)$")
    zp = _to_np(z_paths)
    y_star_e = _np.interp(zp % (2 * _math.pi), zz[order], ee[order], period=2 * _math.pi)
    for s in range(zp.shape[1]):
        col = PALETTE["vicreg"] if s == 0 else PALETTE["sigreg"]
        a1.plot(zp[:, s] % (2 * _math.pi), y_star_e[:, s], "o-", ms=3, lw=0.8, color=col,
                label=f"gradient descent from ζ={zp[0, s]:.1f}")
    a1.set(xlabel=r"latent $\zeta$ (radians)", ylabel=r"energy $E(y^*, \zeta)$",
           title=r"Descending $E(y^*, \zeta)$ in $\zeta$: two starts")
    a1.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_free_energy_beta(F, y1, y2, beta, ax=None, data=None, vmax=3.0):
    """One panel of the relaxed free energy ``F_beta`` (the live slider redraws this)."""
    label = r"\infty" if _math.isinf(beta) else f"{beta:.3g}"
    return plot_energy_map(F, y1, y2, ax=ax, data=data, vmax=vmax, title=rf"$F_\beta(y)$, $\beta={label}$",
                           cbar_label=r"$F_\beta(y)$")


def plot_free_energy_betas(maps, y1, y2, vmax=3.0):
    """Relaxed free energy for several inverse temperatures, one shared colour bar (static twin of the slider).

    Args:
        maps: ``{beta: [n*n] F_beta on the grid}``, in the order to draw.
        y1, y2: grid axes.

    Returns:
        The figure.
    """
    return _energy_row(maps, y1, y2, vmax, r"$F_\beta(y)$",
                       title=lambda beta: r"$\beta=\infty$" if _math.isinf(beta) else rf"$\beta={beta:.3g}$")


def plot_horn(maps, y1, y2, samples=None, vmax=3.0):
    """Conditional toy world: ``F_inf(x, y)`` for a few inputs ``x`` (the horn's slices).

    Args:
        maps: ``{x: [n*n] free energy on the grid}``.
        y1, y2: grid axes.
        samples: optional ``{x: [M, 2]}`` data near that ``x``.

    Returns:
        The figure.
    """
    return _energy_row(maps, y1, y2, vmax, r"$F_\infty(x, y)$", title=lambda x: f"$x = {x:g}$", manifold=False,
                       data=None if samples is None else samples.__getitem__,
                       decorate=lambda ax, x: _draw_ellipse(ax, x=x))


def _energy_row(maps, y1, y2, vmax, cbar_label, title, manifold=True, data=None, decorate=None):
    """One row of heat-maps ``{key: [n*n]}`` with one shared colour bar (chapter 1's static panels).

    ``title(key)`` titles a panel, ``data(key)`` (optional) gives its points ``[M, 2]`` and
    ``decorate(ax, key)`` (optional) draws on it after the heat-map.
    """
    fig, axes = plt.subplots(1, len(maps), figsize=(3.0 * len(maps) + 0.8, 3.5), constrained_layout=True)
    axes = _np.atleast_1d(axes)
    for ax, (key, F) in zip(axes, maps.items()):
        mesh = plot_energy_map(F, y1, y2, ax=ax, vmax=vmax, colorbar=False, manifold=manifold,
                               data=None if data is None else data(key), title=title(key))
        if decorate is not None:
            decorate(ax, key)
    for ax in axes[1:]:
        ax.set_ylabel("")
    fig.colorbar(mesh, ax=list(axes), label=cbar_label, extend="max", shrink=0.9)
    return fig


def plot_trained_energies(results, y1, y2, data=None, vmax=3.0):
    """How training shapes the energy: one heat-map per method plus data vs off-manifold curves.

    Args:
        results: ``{title: (grid_energy [n*n], history)}`` with history keys ``e_data``, ``e_off``.
        y1, y2: grid axes.
        data: training points ``[N, 2]``.

    Returns:
        The figure.
    """
    k = len(results)
    fig, axes = plt.subplots(2, k, figsize=(3.3 * k + 0.6, 6.4), constrained_layout=True,
                             gridspec_kw={"height_ratios": [1.25, 1]})
    colors = [PALETTE["none"], PALETTE["sigreg"], PALETTE["vicreg"], PALETTE["model"]]
    for j, (title, (F, hist)) in enumerate(results.items()):
        mesh = plot_energy_map(F, y1, y2, ax=axes[0, j], data=data, vmax=vmax, colorbar=False, title=title)
        ax = axes[1, j]
        ax.plot(hist["e_data"], color=colors[j % 4], label="data")
        ax.plot(hist["e_off"], color=colors[j % 4], ls="--", label="off the ellipse")
        ax.set(yscale="log", xlabel="training step", ylabel="mean energy (log scale)",
               title="energy during training")
        ax.set_ylim(1e-4, max(10.0, 2 * max(hist["e_off"])))
        ax.legend(fontsize=8)
    fig.colorbar(mesh, ax=list(axes[0]), label="trained energy", extend="max", shrink=0.9)
    return fig


def plot_toy_jepa_collapse(hist):
    """Toy JEPA without a regulariser: energies of true and mismatched pairs, and embedding std.

    Args:
        hist: output of :func:`~ebjepa_mini.energy.toy_jepa.train_toy_jepa`.

    Returns:
        The figure.
    """
    floor = 1e-30   # long runs underflow to exactly 0, which a log axis cannot show
    e_pos, e_neg, z_std = (_np.maximum(_np.asarray(hist[k], dtype=float), floor)
                           for k in ("e_pos", "e_neg", "z_std"))
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(9, 3.2), constrained_layout=True)
    a0.plot(e_pos, color=PALETTE["data"], label="true pairs $(x, x')$")
    a0.plot(e_neg, color=PALETTE["none"], ls="--", label="mismatched pairs")
    a0.set(yscale="log", xlabel="training step", ylabel="mean energy $E(x, x')$", title="Energies go to zero")
    a0.legend(fontsize=8)
    a1.plot(z_std, color=PALETTE["none"])
    a1.set(yscale="log", xlabel="training step", ylabel="mean std of $f_\\theta(x)$",
           title="Embeddings shrink to a point")
    return fig
