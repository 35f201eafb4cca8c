"""Chapter 4 figures: Moving MNIST clips, the K-step rollout schedule, decoded rollouts, their
animation, and detection AP by horizon."""
from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as _np

from .style import NEUTRALS, PALETTE, _noaxis, _to_np, rollout_color

__all__ = ["show_moving_mnist", "plot_rollout_schedule", "plot_video_strip", "animate_video",
           "plot_ap_by_horizon", "plot_video_training"]


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



def show_moving_mnist(frames, maps, n_clips: int = 3, n_frames: int = 10):
    """Frames of a few generated clips with their 8x8 digit-location cells outlined.

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
    """Which prediction is compared with which target in the K-step loss (paper eqs. 9-11, as coded in the reference).

    One panel per K: row ``k`` is the state ``S^(k)`` of the rollout, column ``t`` its frame; a cell
    shows the prediction's order (predictor calls since ground truth, 0 = true encoding ``z_t``).
    Every row ``k >= 1`` is compared with row 0 (the targets ``z_t``) in the loss; the arrows show
    that ``S^(k)_t`` is predicted from ``S^(k-1)_{t-2}`` and ``S^(k-1)_{t-1}``.
    """
    from ..rollout import prediction_orders

    fig, axes = plt.subplots(1, len(ks), figsize=(5.6 * len(ks), 0.75 * max(ks) + 1.9), squeeze=False)
    cmap = matplotlib.colormaps["Blues"]
    for ax, k in zip(axes[0], ks):
        orders = prediction_orders(n_frames, k)
        for r in range(k + 1):
            for t in range(n_frames):
                o = orders[r, t]
                face = NEUTRALS["paper"] if r == 0 else (NEUTRALS["context"] if t < 2 else cmap(0.25 + 0.6 * o / max(ks)))
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
        curves: ``{name: [AP_0, AP_1, ...]}`` (``"K1"``, ``"K4"``, ``"untrained"``, ...); AP_j scores
            (j+1)-step-ahead predictions.
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
                label=f"reference README {name}, 50 epochs (j = 0 and {last}, read off a plot)")
    ax.set(xlabel="horizon index j (AP_j: (j+1)-step-ahead prediction)", ylabel="average precision",
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
