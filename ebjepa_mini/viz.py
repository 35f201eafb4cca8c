"""Every plot the book shows. One palette for the whole book.

Colours (colour-blind safe, Okabe-Ito): VICReg blue, SIGReg orange/vermillion,
no regulariser grey, variance-only purple. Energy landscapes use one colour map
(``ENERGY_CMAP``) from chapter 1 onwards. Figures use transparent-friendly,
mid-luminance colours so they read on light and dark themes.
"""
from __future__ import annotations

import math as _math

import matplotlib
import matplotlib.pyplot as plt
import numpy as _np
import torch as _torch

from . import energy as _energy

__all__ = ["PALETTE", "ENERGY_CMAP", "color_for", "use_book_style"]

#: Fixed colour per regulariser setting, used by every figure of the book.
PALETTE = {
    "vicreg": "#0072B2",     # blue: variance + covariance
    "sigreg": "#D55E00",     # vermillion: SIGReg
    "none": "#7F7F7F",       # grey: no regulariser (collapse)
    "variance": "#CC79A7",   # reddish purple: variance only (dimensional collapse)
    "covariance": "#009E73", # bluish green: covariance only
    "data": "#E69F00",       # orange: data points / ground truth
    "model": "#56B4E9",      # sky blue: model manifold / predictions
}

#: Colour map for energies and free energies (low = dark blue, high = yellow).
ENERGY_CMAP = "viridis"


def color_for(name: str) -> str:
    """The book colour of a regulariser setting (``"vicreg"``, ``"sigreg"``, ``"none"``, ...)."""
    key = name.lower().replace(" ", "").replace("+", "")
    aliases = {"vc": "vicreg", "variancecovariance": "vicreg", "var": "variance", "cov": "covariance",
               "noreg": "none", "": "none"}
    key = aliases.get(key, key)
    if key not in PALETTE:
        raise ValueError(f"name must be one of {sorted(PALETTE)}; got {name!r}")
    return PALETTE[key]


def use_book_style() -> None:
    """Matplotlib defaults for the book: readable fonts, light grid, no top/right spines.

    Figure, axes and saved-image backgrounds are opaque white (the inline backend's default is a
    transparent figure), so the PNGs stay readable when the book is read in its dark theme.
    """
    matplotlib.rcParams.update({
        "figure.dpi": 110, "savefig.dpi": 110, "font.size": 10, "axes.titlesize": 11,
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.25,
        "legend.frameon": False, "figure.facecolor": "white", "axes.facecolor": "white",
        "savefig.facecolor": "white", "savefig.transparent": False,
    })


# ---- Chapter 1: energy-based models ----
# Every heat-map uses ENERGY_CMAP with a shared, clipped colour scale so panels compare.

__all__ += ["plot_energy_map", "plot_toy_world", "plot_inference", "plot_free_energy_beta",
            "plot_free_energy_betas", "plot_horn", "plot_trained_energies", "plot_toy_jepa_collapse"]


def _to_np(t):
    return t.detach().cpu().numpy() if isinstance(t, _torch.Tensor) else _np.asarray(t)


def _draw_ellipse(ax, x=None, color="white", lw=1.0, label=None):
    z = _torch.linspace(0, 2 * _math.pi, 200)
    pts = _energy.ellipse_decoder(z) if x is None else _energy.horn_decoder(_torch.full_like(z, x), z)
    ax.plot(*_to_np(pts).T, ls="--", color=color, lw=lw, label=label)


def plot_energy_map(values, y1, y2, ax=None, title=None, data=None, vmax=3.0, colorbar=True,
                    cbar_label="energy", manifold=True):
    """Heat-map of an energy (or free energy) over the toy world's plane (chapter 1).

    Args:
        values: ``[n*n]`` or ``[n, n]`` energies on :func:`ebjepa_mini.energy.make_grid` points.
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
    """The toy world: data ``y`` and the decoder ``y_tilde(z)`` with a few latent values marked.

    Args:
        y: data ``[N, 2]``.
        z_marks: how many latent values to mark on the ellipse.

    Returns:
        The figure.
    """
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    ax.scatter(*_to_np(y).T, s=8, color=PALETTE["data"], label="data $y$")
    _draw_ellipse(ax, color=PALETTE["model"], lw=1.5, label=r"decoder $\tilde y(z)$")
    z = _energy.latent_grid(z_marks)
    pts = _to_np(_energy.ellipse_decoder(z))
    ax.scatter(*pts.T, s=30, color=PALETTE["model"], zorder=3)
    for zi, (p1, p2) in zip(_to_np(z), pts):
        frac = f"{zi / _math.pi:.3g}"
        text = "z=0" if frac == "0" else "z=$\\pi$" if frac == "1" else f"z={frac}$\\pi$"
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
    a1.plot(zc, ec, color=PALETTE["none"], label=r"$E(y^*, z)$")
    zp = _to_np(z_paths)
    y_star_e = _np.interp(zp % (2 * _math.pi), zz[order], ee[order], period=2 * _math.pi)
    for s in range(zp.shape[1]):
        col = PALETTE["vicreg"] if s == 0 else PALETTE["sigreg"]
        a1.plot(zp[:, s] % (2 * _math.pi), y_star_e[:, s], "o-", ms=3, lw=0.8, color=col,
                label=f"gradient descent from z={zp[0, s]:.1f}")
    a1.set(xlabel="latent $z$ (radians)", ylabel="energy $E(y^*, z)$",
           title=r"Descending $E(y^*, z)$ in $z$: two starts")
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
    fig, axes = plt.subplots(1, len(maps), figsize=(3.0 * len(maps) + 0.8, 3.5), constrained_layout=True)
    axes = _np.atleast_1d(axes)
    for ax, (beta, F) in zip(axes, maps.items()):
        title = r"$\beta=\infty$" if _math.isinf(beta) else rf"$\beta={beta:.3g}$"
        mesh = plot_energy_map(F, y1, y2, ax=ax, vmax=vmax, colorbar=False, title=title)
    for ax in axes[1:]:
        ax.set_ylabel("")
    fig.colorbar(mesh, ax=list(axes), label=r"$F_\beta(y)$", extend="max", shrink=0.9)
    return fig


def plot_horn(maps, y1, y2, samples=None, vmax=3.0):
    """Conditional toy world: ``F_inf(x, y)`` for a few inputs ``x`` (the horn's slices).

    Args:
        maps: ``{x: [n*n] free energy on the grid}``.
        y1, y2: grid axes.
        samples: optional ``{x: [M, 2]}`` data near that ``x``.

    Returns:
        The figure.
    """
    fig, axes = plt.subplots(1, len(maps), figsize=(3.0 * len(maps) + 0.8, 3.5), constrained_layout=True)
    axes = _np.atleast_1d(axes)
    for ax, (x, F) in zip(axes, maps.items()):
        mesh = plot_energy_map(F, y1, y2, ax=ax, vmax=vmax, colorbar=False, manifold=False,
                               data=None if samples is None else samples[x], title=f"$x = {x:g}$")
        _draw_ellipse(ax, x=x)
    for ax in axes[1:]:
        ax.set_ylabel("")
    fig.colorbar(mesh, ax=list(axes), label=r"$F_\infty(x, y)$", extend="max", shrink=0.9)
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
        hist: output of :func:`ebjepa_mini.energy.train_toy_jepa`.

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


# ---- Chapter 2: collapse ----
#: Display names of the regulariser settings of chapter 2.
SETTING_NAMES = {"none": "no regulariser", "variance": "variance only", "vicreg": "variance + covariance (VICReg)",
                 "sigreg": "SIGReg", "covariance": "covariance only"}

__all__ += ["SETTING_NAMES", "collapse_dashboard", "compare_collapse", "embedding_pca", "show_views",
            "figure_png", "figure_img_html"]


def _setting_color(label: str) -> str:
    try:
        return color_for(label)
    except ValueError:
        return PALETTE["model"]


def collapse_dashboard(history: dict, z, gamma: float = 1.0, fig=None, title: str | None = None):
    """Four live panels of one run: effective rank, loss terms, per-dimension std vs the hinge, spectrum.

    Args:
        history: a :class:`~ebjepa_mini.collapse.CollapseExperiment` history (dict of lists).
        z: current embeddings ``[N, D]`` of the evaluation images.
        gamma: the VICReg hinge (paper eq. 6), drawn on the std panel.
        fig: an existing ``matplotlib.figure.Figure`` to draw into (the widget reuses one).
    """
    from .metrics import covariance_spectrum, per_dim_std

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
    from .metrics import covariance_spectrum, per_dim_std

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
            axes[r, i].set_xticks([])
            axes[r, i].set_yticks([])
            axes[r, i].grid(False)
        axes[r, 0].set_ylabel(name)
    return fig


def figure_png(fig) -> bytes:
    """Render a figure to PNG bytes (for image widgets); closes pyplot figures."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    if plt.fignum_exists(getattr(fig, "number", -1)):
        plt.close(fig)
    return buf.getvalue()


def figure_img_html(fig, alt: str) -> str:
    """An ``<img>`` tag (PNG as a data URI) with alt text, for widgets: ipywidgets' ``Image`` cannot
    carry alt text, an ``HTML`` widget holding this tag can (also in the static book's widget state)."""
    import base64
    import html

    data = base64.b64encode(figure_png(fig)).decode("ascii")
    return (f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}" '
            'style="width:100%; height:auto">')


# ---- Chapter 3: VICReg vs SIGReg on CIFAR-10 ----
__all__ += ["plot_epps_pulley", "compare_image_runs", "plot_image_training"]


def _family_color(name: str, family: str | None = None) -> str:
    fam = family or ("sigreg" if name.startswith("sigreg") else "vicreg" if name.startswith("vicreg") else "none")
    return PALETTE.get(fam, PALETTE["none"])


def plot_epps_pulley(samples: dict, t_max: float = 4.0):
    """Empirical vs Gaussian characteristic function on one slice (paper eq. 8, chapter 3).

    Args:
        samples: ``{label: (y [N], color)}``: one-dimensional projections ``y = Z a`` of embeddings.
        t_max: the CF is drawn on ``[-t_max, t_max]``; the 10 quadrature knots on ``[-3, 3]`` are marked.

    Returns:
        The figure: left, histograms against the N(0, 1) density; right, ``Re psi(t)`` and ``Im psi(t)``
        against ``phi(t) = exp(-t^2/2)``, with each slice's Epps-Pulley value in the legend.
    """
    from .regularizers import EPPS_PULLEY_KNOTS, epps_pulley

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 3.6), width_ratios=(1, 1.5))
    grid = _np.linspace(-4, 4, 200)
    ax0.plot(grid, _np.exp(-grid ** 2 / 2) / _math.sqrt(2 * _math.pi), color="black", lw=1.5, label="N(0, 1)")
    t = _np.linspace(-t_max, t_max, 241)
    ax1.plot(t, _np.exp(-t ** 2 / 2), color="black", lw=1.5, label=r"$\phi(t)=e^{-t^2/2}$")
    lo, hi, k = EPPS_PULLEY_KNOTS
    for label, (y, color) in samples.items():
        y = _to_np(y).astype(_np.float64).ravel()
        ep = float(epps_pulley(_torch.as_tensor(y).view(-1, 1))[0])
        ax0.hist(_np.clip(y, -4, 4), bins=40, range=(-4, 4), density=True, alpha=0.45, color=color, label=label)
        ty = _np.outer(t, y)
        ax1.plot(t, _np.cos(ty).mean(1), color=color, lw=2, label=f"Re ψ(t), {label}: G = {ep:.3g}")
        ax1.plot(t, _np.sin(ty).mean(1), color=color, lw=1, ls="--", label=f"Im ψ(t), {label}")
    for tk in _np.linspace(lo, hi, k):
        ax1.axvline(tk, color="0.8", lw=0.6, zorder=0)
    ax0.set(xlabel="projected value y = z·a", ylabel="density", title="one random slice")
    ax1.set(xlabel="t (grey: the 10 quadrature knots)", ylabel="characteristic function",
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


# ---- Chapter 4: video JEPA on Moving MNIST ----
__all__ += ["ROLLOUT_COLORS", "rollout_color", "show_moving_mnist", "plot_rollout_schedule", "plot_video_strip",
            "animate_video", "plot_ap_by_horizon", "plot_video_training"]

#: Colours of the chapter 4 models: all VICReg-trained, so shades of the VICReg blue (darker = longer
#: rollout); the untrained encoder is grey like "no regulariser", the paper's curves are black.
ROLLOUT_COLORS = {"K1": "#56B4E9", "K2": "#3A95CC", "K4": PALETTE["vicreg"], "K8": "#003F63",
                  "untrained": PALETTE["none"], "paper": "#000000"}


def rollout_color(name: str) -> str:
    """Colour of a chapter 4 run (``"K1"``, ``"K4"``, ``"untrained"``, ...); other K values get the VICReg blue."""
    return ROLLOUT_COLORS.get(name, PALETTE["vicreg"])


def _grid_overlay(ax, side: int, grid: int = 8) -> None:
    for g in range(1, grid):
        ax.axhline(g * side / grid - 0.5, color="white", lw=0.3, alpha=0.35)
        ax.axvline(g * side / grid - 0.5, color="white", lw=0.3, alpha=0.35)


def _cells(ax, m, side: int, color: str, lw: float = 1.2) -> None:
    """Outline the positive cells of an 8x8 map on an image of ``side`` pixels."""
    m = _np.asarray(m)
    g = m.shape[-1]
    c = side / g
    for r, q in zip(*_np.nonzero(m > 0.5)):
        ax.add_patch(matplotlib.patches.Rectangle((q * c - 0.5, r * c - 0.5), c, c, fill=False, ec=color, lw=lw))


def _noaxis(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def show_moving_mnist(frames, maps, n_clips: int = 3, n_frames: int = 10):
    """Frames of a few generated clips with their 8x8 digit-location cells outlined (spec §4.3).

    Args:
        frames: ``[N, T, L, L]`` uint8 or float frames.
        maps: ``[N, T, 8, 8]`` binary maps.
    """
    frames, maps = _to_np(frames), _to_np(maps)
    n_clips, n_frames = min(n_clips, len(frames)), min(n_frames, frames.shape[1])
    side = frames.shape[-1]
    fig, axes = plt.subplots(n_clips, n_frames, figsize=(1.15 * n_frames, 1.2 * n_clips + 0.4), squeeze=False,
                             layout="constrained")
    for i in range(n_clips):
        for t in range(n_frames):
            ax = axes[i, t]
            ax.imshow(frames[i, t], cmap="gray", vmin=0, vmax=frames.max() or 1)
            _grid_overlay(ax, side)
            _cells(ax, maps[i, t], side, PALETTE["data"])
            _noaxis(ax)
            if i == 0:
                ax.set_title(f"t = {t}", fontsize=8)
        axes[i, 0].set_ylabel(f"clip {i}")
    fig.suptitle("generated Moving MNIST: frames and their 8×8 location cells (orange)", fontsize=10)
    return fig


def plot_rollout_schedule(n_frames: int = 10, ks=(1, 4)):
    """Which prediction is compared with which target in the K-step loss (spec §5.2, paper eqs. 9-11).

    One panel per K: row ``k`` is the state ``S^(k)`` of the rollout, column ``t`` its frame; a cell
    shows the prediction's order (predictor calls since ground truth, 0 = true encoding ``z_t``).
    Every row ``k >= 1`` is compared with row 0 (the targets ``z_t``) in the loss; the arrows show
    that ``S^(k)_t`` is predicted from ``S^(k-1)_{t-2}`` and ``S^(k-1)_{t-1}``.
    """
    from .video import prediction_orders

    fig, axes = plt.subplots(1, len(ks), figsize=(5.6 * len(ks), 0.75 * max(ks) + 1.9), squeeze=False)
    cmap = matplotlib.colormaps["Blues"]
    for ax, k in zip(axes[0], ks):
        orders = prediction_orders(n_frames, k)
        for r in range(k + 1):
            for t in range(n_frames):
                o = orders[r, t]
                face = "#FFFFFF" if r == 0 else ("#EDEDED" if t < 2 else cmap(0.25 + 0.6 * o / max(ks)))
                ax.add_patch(matplotlib.patches.Rectangle((t - 0.45, r - 0.4), 0.9, 0.8, fc=face, ec="0.4", lw=0.8))
                txt = f"z{t}" if r == 0 else ("z" if t < 2 else str(o))
                ax.text(t, r, txt, ha="center", va="center", fontsize=8,
                        color="white" if (r > 0 and t >= 2 and o >= 3) else "black")
        t_show = min(n_frames - 1, 5)
        for r in range(1, k + 1):
            for src in (t_show - 2, t_show - 1):
                ax.annotate("", xy=(t_show, r - 0.38), xytext=(src, r - 0.62),
                            arrowprops=dict(arrowstyle="->", color=PALETTE["sigreg"], lw=0.9))
        ax.set_xlim(-0.6, n_frames - 0.4)
        ax.set_ylim(k + 0.6, -0.6)
        ax.set_xticks(range(n_frames))
        ax.set_yticks(range(k + 1), ["targets z"] + [f"S({r})" for r in range(1, k + 1)])
        ax.set_xlabel("frame t")
        ax.grid(False)
        ax.set_title(f"K = {k}: loss compares every row S(k) with the targets", fontsize=10)
    fig.tight_layout()
    return fig


def plot_video_strip(pics: dict, title: str | None = None):
    """A static strip of one validation clip: true frames, decoded one-step predictions, decoded
    autoregressive rollout, and detection heat-maps of the rollout with the true cells outlined.

    Args:
        pics: the dict returned by :meth:`ebjepa_mini.video.VideoExperiment.predict_clip`.
    """
    rows = [("input frames", pics["frames"]), ("1-step predictions\n(decoded)", pics["one_step"]),
            ("rollout from t=0,1\n(decoded)", pics["rollout"]), ("detection on\nthe rollout", pics["heat_rollout"])]
    t_len = pics["frames"].shape[0]
    fig, axes = plt.subplots(len(rows), t_len, figsize=(1.1 * t_len + 1.2, 1.2 * len(rows) + 0.3), squeeze=False,
                             layout="constrained")
    for r, (name, arr) in enumerate(rows):
        for t in range(t_len):
            ax = axes[r, t]
            if r < 3:
                ax.imshow(_np.clip(arr[t], 0, 1), cmap="gray", vmin=0, vmax=1)
                if t >= 2 and r > 0:
                    for sp in ax.spines.values():
                        sp.set_visible(True)
                        sp.set_color(PALETTE["vicreg"])
            else:
                ax.imshow(arr[t], cmap="Blues", vmin=0, vmax=1)
                _cells(ax, pics["maps"][t], arr.shape[-1], PALETTE["data"], lw=1.0)
            _noaxis(ax)
            if r == 0:
                ax.set_title(f"t = {t}" + (" (context)" if t < 2 else ""), fontsize=7)
        axes[r, 0].set_ylabel(name, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def animate_video(pics: dict, interval: int = 400):
    """The same four views as :func:`plot_video_strip`, as a matplotlib animation (one frame per t).

    Returns:
        A ``matplotlib.animation.FuncAnimation``; in a notebook show it with
        ``IPython.display.HTML(anim.to_jshtml())``.
    """
    from matplotlib import animation

    panels = [("input frame", pics["frames"], "gray"), ("1-step prediction (decoded)", pics["one_step"], "gray"),
              ("rollout (decoded)", pics["rollout"], "gray"), ("detection on the rollout", pics["heat_rollout"], "Blues")]
    fig, axes = plt.subplots(1, 4, figsize=(8.4, 2.5))
    ims = []
    for ax, (name, arr, cmap) in zip(axes, panels):
        ims.append(ax.imshow(_np.clip(arr[0], 0, 1), cmap=cmap, vmin=0, vmax=1))
        ax.set_title(name, fontsize=8)
        _noaxis(ax)
    label = fig.suptitle("t = 0 (context)", fontsize=9)
    cell_patches: list = []

    def update(t):
        for im, (_, arr, _) in zip(ims, panels):
            im.set_data(_np.clip(arr[t], 0, 1))
        while cell_patches:
            cell_patches.pop().remove()
        before = len(axes[3].patches)
        _cells(axes[3], pics["maps"][t], pics["heat_rollout"].shape[-1], PALETTE["data"])
        cell_patches.extend(axes[3].patches[before:])
        label.set_text(f"t = {t}" + (" (context)" if t < 2 else f" (rollout order {t - 1})"))
        return ims

    anim = animation.FuncAnimation(fig, update, frames=pics["frames"].shape[0], interval=interval)
    anim.alt_text = ("Animation of one validation clip, one frame per time step, in four panels: the input frame, "
                     "the decoded one-step prediction, the decoded rollout from the first two frames, and the "
                     "detection heat-map on the rollout with the true digit cells outlined in orange.")
    plt.close(fig)
    return anim


def plot_ap_by_horizon(curves: dict, paper: dict | None = None, title: str | None = None, ax=None):
    """Detection AP against prediction horizon (the paper's Figure 3b at this book's scale).

    Args:
        curves: ``{name: [AP_0, AP_1, ...]}`` (``"K1"``, ``"K4"``, ``"untrained"``, ...); AP_h scores
            (h+1)-step-ahead predictions.
        paper: optional ``{name: (AP_0, AP_6)}``: the reference's values at the first and last horizon
            (read off its plot), drawn as open markers joined by a dotted line.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.2, 3.8))
    else:
        fig = ax.figure
    for name, ap in curves.items():
        h = _np.arange(len(ap))
        ax.plot(h, ap, "o-", color=rollout_color(name), lw=2, label=f"{name} (mAP {_np.mean(ap):.3f})")
    last = max((len(ap) for ap in curves.values()), default=7) - 1
    for name, (first, end) in (paper or {}).items():
        ax.plot([0, last], [first, end], ":", marker="o", mfc="white", color=rollout_color(name), lw=1.2,
                label=f"paper {name}, 50 epochs (h = 0 and {last})")
    ax.set(xlabel="horizon index h (AP_h: (h+1)-step-ahead prediction)", ylabel="average precision",
           title=title or "detection AP vs prediction horizon", ylim=(0, 1))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_video_training(runs: dict, terms=("pred", "variance", "covariance")):
    """Loss terms per step of trained :class:`~ebjepa_mini.video.VideoRun` objects (log scale)."""
    runs = {n: r for n, r in runs.items() if r.history and "pred" in r.history}
    fig, axes = plt.subplots(1, len(terms), figsize=(4.2 * len(terms), 3.2))
    for ax, term in zip(_np.atleast_1d(axes), terms):
        for n, r in runs.items():
            ax.semilogy(r.history["step"], _np.clip(r.history[term], 1e-8, None), color=rollout_color(n), label=n)
        ax.set(xlabel="step", ylabel=term, title=f"{term} term (unweighted)")
        if ax.lines:
            ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ---- Chapters 5 and 6: world models and planning in Two Rooms ----
# Rooms are drawn in pixel coordinates (x = column, y = row, y pointing down as in the image).

__all__ += ["draw_room", "plot_rooms", "plot_world_training", "plot_rollout_check", "plot_episodes",
            "plot_mppi_iterations", "draw_plan_iteration", "plot_success_bars", "plot_stored_success", "PLAN_COLORS",
            "plot_probe_kept", "plot_energy_breakdown"]

#: Colours of chapters 5–6: executed path, planned rollouts, elites, plan mean, goal.
PLAN_COLORS = {"path": "#0072B2", "samples": "#999999", "elites": "#E69F00", "mean": "#D55E00",
               "goal": "#009E73", "truth": "#000000", "rollout": "#D55E00"}


def draw_room(ax, wall_x: int, door_y: int, pos=None, goal=None, title: str | None = None):
    """Draw one Two Rooms layout (walls grey) in pixel coordinates, with optional dot and goal."""
    from .data import two_rooms as tr

    obs = tr.render(_np.zeros((1, 2)) if pos is None else _np.asarray(pos).reshape(1, 2), wall_x, door_y)[0]
    if pos is None:
        obs[0] = 0
    goal_ch = None if goal is None else tr.render(_np.asarray(goal).reshape(1, 2), wall_x, door_y)[0, 0]
    ax.imshow(tr.to_rgb(obs, goal_ch), extent=(-0.5, 64.5, 64.5, -0.5), interpolation="nearest")
    ax.set_xlim(2, 62)
    ax.set_ylim(62, 2)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_rooms(data: dict, n: int = 6, title: str | None = None):
    """``n`` clips of the offline dataset: layout, the dot's path (start ○, end ●), door crossings marked."""
    from .data import two_rooms as tr

    fig, axes = plt.subplots(1, n, figsize=(2.1 * n, 2.4))
    for i, ax in enumerate(_np.atleast_1d(axes)):
        pos = data["pos"][i]
        side = tr.same_room(pos, data["wall_x"][i])
        crossed = (side == -1).any() and (side == 1).any()
        draw_room(ax, int(data["wall_x"][i]), int(data["door_y"][i]),
                  title="crosses the door" if crossed else "stays in its room")
        ax.plot(pos[:, 0], pos[:, 1], "-", color=PLAN_COLORS["path"], lw=1.5)
        ax.plot(*pos[0], "o", mfc="none", mec=PLAN_COLORS["path"], ms=6)
        ax.plot(*pos[-1], "o", color=PLAN_COLORS["path"], ms=4)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_world_training(history: dict, weights=None, title: str | None = None):
    """Eq. 13 term by term over training (unweighted values, log scale), plus the probe's error in pixels."""
    terms = [("pred", "prediction"), ("std", "variance (α)"), ("cov", "covariance (β)"), ("sim", "time similarity (δ)"),
             ("idm", "inverse dynamics (ω)")]
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.3))
    steps = _np.asarray(history["step"])
    colors = ["#000000", "#CC79A7", "#0072B2", "#009E73", "#E69F00"]
    for (k, label), c in zip(terms, colors):
        if k in history:
            y = _np.clip(_np.asarray(history[k], float), 1e-6, None)
            w = None if weights is None else getattr(weights, k, None)
            axes[0].semilogy(steps, _smooth(y), color=c, lw=1.4,
                             label=label + ("" if w is None or k == "pred" else f" ×{w:g}"))
    axes[0].set(xlabel="step", ylabel="term (unweighted, smoothed)", title="the loss of eq. 13, term by term")
    axes[0].legend(fontsize=7.5)
    if "probe" in history:
        from .data import two_rooms as tr
        px = tr.probe_error_px(history["probe"])
        axes[1].semilogy(steps, _smooth(px), color=PLAN_COLORS["path"])
        axes[1].set(xlabel="step", ylabel="RMS error (pixels)",
                    title="position probe on detached latents")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _smooth(y, k: int = 25):
    y = _np.asarray(y, float)
    if len(y) < 2 * k:
        return y
    c = _np.cumsum(_np.insert(y, 0, 0.0))
    out = (c[k:] - c[:-k]) / k
    return _np.concatenate([y[: k - 1], out])


def plot_rollout_check(true_pos, roll_pos, wall_x, door_y, errors=None, n: int = 3, title: str | None = None,
                       names=None):
    """Imagined vs real: probe-decoded latent rollouts (dashed) against the true paths (solid) for ``n``
    clips (titled ``names[i]``, default "clip i"), and (if ``errors`` ``{name: [H+1]}`` is given) the
    mean error in pixels per rollout step."""
    cols = n + (errors is not None)
    fig, axes = plt.subplots(1, cols, figsize=(2.6 * cols + (1.2 if errors is not None else 0), 2.8),
                             gridspec_kw={"width_ratios": [1] * n + ([1.6] if errors is not None else [])})
    axes = _np.atleast_1d(axes)
    for i in range(n):
        ax = axes[i]
        draw_room(ax, int(wall_x[i]), int(door_y[i]), title=names[i] if names else f"clip {i + 1}")
        ax.plot(true_pos[i][:, 0], true_pos[i][:, 1], "-", color=PLAN_COLORS["truth"], lw=1.6, label="real path")
        ax.plot(roll_pos[i][:, 0], roll_pos[i][:, 1], "--", color=PLAN_COLORS["rollout"], lw=1.6,
                label="imagined (probe of the rollout)")
        ax.plot(*true_pos[i][0], "o", color=PLAN_COLORS["truth"], ms=4)
    axes[0].legend(fontsize=7, loc="lower left")
    if errors is not None:
        ax = axes[-1]
        for name, err in errors.items():
            ax.plot(_np.arange(len(err)), err, lw=2, label=name,
                    color=PLAN_COLORS["rollout"] if "roll" in name else PLAN_COLORS["truth"])
        ax.axhline(4.5, color=PLAN_COLORS["goal"], ls=":", lw=1, label="success radius 4.5 px")
        ax.set(xlabel="predictor calls from the encoded frame", ylabel="mean position error (px)",
               title="error grows with the horizon")
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_probe_kept(probes: dict, targets, title: str | None = None):
    """Grouped bars of ``kept = 1 - MAE / MAE of the constant guess`` per read-out target, one group
    per target and one bar per model (``probes``: ``{label: RegressionProbe}``)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    x = _np.arange(len(targets))
    w = 0.8 / max(len(probes), 1)
    colors = [PALETTE["none"], PLAN_COLORS["path"], PALETTE["sigreg"], PALETTE["covariance"]]
    for j, (label, pr) in enumerate(probes.items()):
        kept = _np.clip(pr.kept, 0, 1)
        ax.bar(x - 0.4 + w * (j + 0.5), kept, w, color=colors[j % len(colors)], label=label)
        for xi, k, mae in zip(x - 0.4 + w * (j + 0.5), kept, pr.mae):
            ax.text(xi, k + 0.02, f"{mae:.1f} px", ha="center", fontsize=7)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(x, list(targets))
    ax.set(ylim=(0, 1.32), ylabel="kept = 1 - error / guess error",
           title=title or "linear read-out from the latent (labels: mean error)")
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.legend(fontsize=7, loc="upper center", ncol=len(probes))
    fig.tight_layout()
    return fig


def plot_energy_breakdown(scores: dict, labels: dict | None = None):
    """One panel per scorer of :func:`~ebjepa_mini.planning.energy_breakdown`: every task as a point
    (energy of the wall plan, energy of the door plan); below the diagonal the energy prefers the door.

    Args:
        scores: ``{"door": {scorer: [E]}, "wall": {scorer: [E]}}``.
        labels: ``{scorer: panel title}``.
    """
    scorers = list(scores["door"])
    fig, axes = plt.subplots(1, len(scorers), figsize=(3.0 * len(scorers), 3.1))
    for ax, k in zip(_np.atleast_1d(axes), scorers):
        wall, door = _np.asarray(scores["wall"][k]), _np.asarray(scores["door"][k])
        ok = door < wall
        ax.scatter(wall[ok], door[ok], s=12, color=PLAN_COLORS["path"], label="door cheaper")
        ax.scatter(wall[~ok], door[~ok], s=12, color=PALETTE["sigreg"], marker="x", label="wall cheaper")
        hi = float(max(wall.max(), door.max())) * 1.05
        ax.plot([0, hi], [0, hi], ":", color="black", lw=1)
        ax.set(xlim=(0, hi), ylim=(0, hi), xlabel="energy of the wall plan", ylabel="energy of the door plan",
               title=f"{(labels or {}).get(k, k)}\ndoor cheaper in {ok.mean():.0%} of tasks")
        ax.title.set_fontsize(9)
    _np.atleast_1d(axes)[0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def plot_energy_maps(maps: dict, wall_x: int, door_y: int, start, goal, step: float):
    """One panel per energy landscape of the same task: the planning energy's term ``d(p)`` for the
    dot at every grid point ``p`` (e.g. :class:`~ebjepa_mini.planning.EnergyMap` values), dark = low,
    each panel scaled from its own minimum to its maximum (their units differ), with the walls,
    start (○) and goal (★).

    Args:
        maps: ``{panel title: values [G, G]}`` at the positions of
            :func:`~ebjepa_mini.planning.map_grid` (``step`` px apart, rows y, columns x).
    """
    from .data import two_rooms as tr

    fig, axes = plt.subplots(1, len(maps), figsize=(2.9 * len(maps), 3.0))
    for ax, (label, v) in zip(_np.atleast_1d(axes), maps.items()):
        v = _np.asarray(v, dtype=float)
        lo = tr.BORDER[0]
        hi = lo + step * (v.shape[-1] - 1)
        ax.imshow((v - v.min()) / (v.max() - v.min() + 1e-12), cmap=ENERGY_CMAP, vmin=0, vmax=1,
                  extent=(lo - step / 2, hi + step / 2, hi + step / 2, lo - step / 2), interpolation="nearest")
        walls = tr.wall_masks(wall_x, door_y)[0].numpy() > 0
        ax.imshow(_np.ma.masked_where(~walls, walls), cmap="Greys", vmin=0, vmax=1.4,
                  extent=(-0.5, 64.5, 64.5, -0.5), interpolation="nearest")
        ax.plot(*start, "o", ms=7, mfc="white", mec=PLAN_COLORS["path"], mew=2)
        ax.plot(*goal, "*", ms=11, color="white", mec=PLAN_COLORS["goal"], mew=1.2)
        ax.set(xlim=(2, 62), ylim=(62, 2))
        _noaxis(ax)
        ax.spines[:].set_visible(False)
        ax.set_title(label, fontsize=9)
    fig.tight_layout()
    return fig


def plot_plan_choice(shares: dict, title: str | None = None):
    """Which hand-made plan has the lowest energy? Grouped bars: one group per scorer (true
    positions, a model's imagination, ...), one bar per plan, the share of tasks it wins.

    Args:
        shares: ``{scorer label: {plan name: share of tasks}}`` (the shares of a scorer sum to 1).
    """
    fig, ax = plt.subplots(figsize=(6.4, 3.1))
    labels = list(shares)
    plans = list(next(iter(shares.values())))
    colors = [PLAN_COLORS["path"], PALETTE["none"], PALETTE["sigreg"], PALETTE["covariance"]]
    x = _np.arange(len(labels))
    w = 0.8 / max(len(plans), 1)
    for j, plan in enumerate(plans):
        v = [shares[k][plan] for k in labels]
        ax.bar(x - 0.4 + w * (j + 0.5), v, w, color=colors[j % len(colors)], label=f"{plan} plan cheapest")
        for xi, vi in zip(x - 0.4 + w * (j + 0.5), v):
            ax.text(xi, vi + 0.02, f"{vi:.0%}", ha="center", fontsize=7)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set(ylim=(0, 1.12), ylabel="share of tasks", title=title)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    return fig


def plot_episodes(result, n: int = 8, cols: int = 4, title: str | None = None):
    """Executed paths of ``n`` planning episodes (a :class:`~ebjepa_mini.planning.PlanResult`)."""
    rows = int(_math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.3 * cols, 2.45 * rows))
    t = result.tasks
    for i, ax in enumerate(_np.atleast_1d(axes).ravel()):
        if i >= n:
            ax.axis("off")
            continue
        ok = bool(result.success[i])
        draw_room(ax, int(t["wall_x"][i]), int(t["door_y"][i]), goal=t["goal"][i],
                  title=f"{'success' if ok else 'failure'} · {result.final_distance[i]:.1f} px")
        p = result.paths[i]
        ax.plot(p[:, 0], p[:, 1], "-", color=PLAN_COLORS["path"], lw=1.4)
        ax.plot(*p[0], "o", mfc="none", mec=PLAN_COLORS["path"], ms=6)
        ax.plot(*p[-1], "o", color=PLAN_COLORS["path"], ms=4)
    fig.suptitle(title or f"{result.planner.upper()}, {result.cost} cost: {result.success_rate:.0%} of "
                 f"{len(result.success)} episodes succeed", fontsize=10)
    fig.tight_layout()
    return fig


def draw_plan_iteration(ax, step: dict, decode):
    """Draw one planner iteration (an entry of ``mppi(..., history=[])``) on ``ax``: every sampled
    rollout (grey, at most 60), the elites (orange) and the refitted mean (red), decoded to positions.

    ``decode`` maps actions ``[N, H, 2]`` to positions ``[N, H+1, 2]``; batched histories show problem 0.
    """
    samples = step["samples"][0] if step["samples"].dim() == 4 else step["samples"]
    elite = step["elite_idx"][0] if step["elite_idx"].dim() == 2 else step["elite_idx"]
    mean = step["mean"][0] if step["mean"].dim() == 3 else step["mean"]
    paths = decode(samples)
    for p in paths[:: max(1, len(paths) // 60)]:
        ax.plot(p[:, 0], p[:, 1], "-", color=PLAN_COLORS["samples"], lw=0.5, alpha=0.5)
    for p in paths[elite]:
        ax.plot(p[:, 0], p[:, 1], "-", color=PLAN_COLORS["elites"], lw=0.9, alpha=0.9)
    m = decode(mean[None])[0]
    ax.plot(m[:, 0], m[:, 1], "-", color=PLAN_COLORS["mean"], lw=2.2)


def plot_mppi_iterations(history: list, decode, wall_x, door_y, start, goal, iters=(0, 1, -1), fig=None):
    """One MPPI plan, iteration by iteration: sampled rollouts (grey), elites (orange), the new mean (red).

    Args:
        history: the list filled by ``mppi(..., history=[])`` (one problem, not batched).
        decode: actions ``[N, H, 2]`` -> positions ``[N, H+1, 2]`` (e.g. the probe of a latent rollout).
    """
    iters = [i if i >= 0 else len(history) + i for i in iters]
    if fig is None:
        fig = plt.figure(figsize=(3.0 * len(iters), 3.2))
    axes = fig.subplots(1, len(iters))
    for ax, it in zip(_np.atleast_1d(axes), iters):
        draw_room(ax, wall_x, door_y, goal=goal, title=f"iteration {it + 1}")
        draw_plan_iteration(ax, history[it], decode)
        ax.plot(*_np.asarray(start), "o", color=PLAN_COLORS["path"], ms=5)
    fig.suptitle("imagined rollouts (probe-decoded): samples grey, elites orange, updated mean red", fontsize=9)
    return fig


def plot_stored_success(stored: dict, rows, paper: dict, title: str):
    """Stored ``bench world`` records next to the paper: one printed line per record, then
    :func:`plot_success_bars`.

    Args:
        stored: ``{file stem: record}`` from :func:`ebjepa_mini.bench.stored_results`.
        rows: ``[(label, file stem), ...]`` in the order of the bars.
        paper: ``{label: success rate}`` from the paper (labels it lacks print "not in the paper").

    Returns:
        The figure, or ``None`` when none of the records is stored.
    """
    ours = {}
    width = max(len(label) for label, _ in rows)
    for label, stem in rows:
        rec = stored.get(stem)
        if rec is None:
            continue
        ours[label] = rec["success_rate"]
        ref = f"paper {paper[label]:.0%}" if label in paper else "not in the paper"
        print(f"{label:{width}s} success {rec['success_rate']:.0%} over {rec['episodes']} episodes, mean final distance "
              f"{rec['mean_final_distance']:.1f} px, planning {rec['plan_wall_s']:.0f} s ({ref}); "
              f"{rec['hardware']}, {rec['date'][:10]}")
    if not ours:
        print(f"no stored runs among {[stem for _, stem in rows]} (python -m ebjepa_mini.bench world ... --save)")
        return None
    return plot_success_bars(ours, paper, title=title)


def plot_success_bars(ours: dict, paper: dict | None = None, title: str | None = None, ax=None):
    """Success rate per configuration: this book's runs (solid) next to the paper's (hatched).

    Configurations listed in ``paper`` but missing from ``ours`` are marked "not run".
    """
    names = list(paper) if paper else list(ours)
    names += [k for k in ours if k not in names]
    if ax is None:
        fig, ax = plt.subplots(figsize=(1.3 * max(len(names), 3) + 2.5, 3.3))
    else:
        fig = ax.figure
    x = _np.arange(len(names))
    w = 0.38 if paper else 0.6
    left = x - (w / 2 if paper else 0)
    have = [k in ours for k in names]
    ax.bar(left[have], [100 * ours[k] for k in names if k in ours], w, color=PLAN_COLORS["path"], label="this book")
    if paper:
        ax.bar(x + w / 2, [100 * paper.get(k, _np.nan) for k in names], w, color="white",
               edgecolor=PLAN_COLORS["path"], hatch="//", label="paper (Table 4)")
    for xi, k in zip(left, names):
        if k in ours:
            ax.text(xi, 100 * ours[k] + 1.5, f"{100 * ours[k]:.0f}", ha="center", fontsize=8)
        else:
            ax.text(xi, 2, "not run", ha="center", va="bottom", rotation=90, fontsize=7, color="#555555")
    ax.set_xticks(x, names, fontsize=8)
    ax.set(ylabel="success rate (%)", ylim=(0, 110), title=title or "planning success")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


__all__ += ["offline_jshtml"]

_FA_SYMBOLS = {"fast-backward": "⏮", "fast-forward": "⏭", "step-backward": "◀|", "step-forward": "|▶",
               "pause": "⏸", "play": "▶", "minus": "−", "plus": "+"}


def offline_jshtml(anim, alt: str | None = None, **kwargs) -> str:
    """``anim.to_jshtml(**kwargs)`` without its Font Awesome stylesheet from a CDN: the player's
    icons become plain Unicode symbols, so the animation works in an offline build of the book.

    The player's ``<img>`` gets ``alt`` as its alt text (default: the animation's ``alt_text``
    attribute, which :func:`animate_video` sets, else a generic description), because cell
    metadata (``mystnb.image.alt``) only reaches image outputs, not HTML ones.
    """
    import html as _html
    import re

    alt = alt or getattr(anim, "alt_text", None) or "Animation; the buttons below play it or step through its frames."
    html = anim.to_jshtml(**kwargs)
    html = re.sub(r'<img id="(_anim_img[^"]*)"', lambda m: f'<img id="{m.group(1)}" alt="{_html.escape(alt)}"',
                  html, count=1)
    html = re.sub(r'<link rel="stylesheet"\s*href="https?://[^"]*font-awesome[^"]*">', "", html)

    def icon(m):
        name, extra = m.group(1), m.group(2)
        sym = "◀" if name == "play" and "flip" in extra else _FA_SYMBOLS.get(name, name)
        return f'<span style="font-family: sans-serif">{sym}</span>'

    return re.sub(r'<i class="fa fa-([a-z-]+)([^"]*)"></i>', icon, html)
