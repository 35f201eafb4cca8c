"""Chapters 5 and 6 figures: Two Rooms, the world model's training and rollouts, and planning.

Rooms are drawn in pixel coordinates (x = column, y = row, y pointing down as in the image);
every size, wall and radius comes from :mod:`ebjepa_mini.data.two_rooms`.
"""
from __future__ import annotations

import math as _math

import matplotlib.pyplot as plt
import numpy as _np

from .style import ENERGY_CMAP, NEUTRALS, PALETTE, PLAN_COLORS, WORLD_TERM_COLORS, _noaxis

__all__ = ["draw_room", "plot_observation", "plot_plan_energies", "plot_rooms", "plot_world_training", "plot_rollout_check", "plot_probe_kept",
           "plot_episodes",
           "draw_plan_iteration", "plot_mppi_iterations", "plot_goal_distance", "plot_stored_success", "plot_success_bars"]


#: Pixels of canvas shown outside the border walls.
_MARGIN = 2.0


def _canvas_extent(tr) -> tuple:
    """``imshow`` extent of the whole ``SIZE``-pixel canvas (pixel centres on integer coordinates)."""
    return (-0.5, tr.SIZE - 0.5, tr.SIZE - 0.5, -0.5)


def _frame_room(ax, tr) -> None:
    """Show the rooms up to ``_MARGIN`` pixels outside the border walls, y pointing down."""
    lo, hi = tr.BORDER[0] - _MARGIN, tr.BORDER[1] + _MARGIN
    ax.set_xlim(lo, hi)
    ax.set_ylim(hi, lo)


def _draw_path(ax, p, color=PLAN_COLORS["path"], lw: float = 1.5) -> None:
    """A path ``[T, 2]`` in pixels: the line, its start (open circle) and its end (dot)."""
    ax.plot(p[:, 0], p[:, 1], "-", color=color, lw=lw)
    ax.plot(*p[0], "o", mfc="none", mec=color, ms=6)
    ax.plot(*p[-1], "o", color=color, ms=4)


def draw_room(ax, wall_x: int, door_y: int, pos=None, goal=None, title: str | None = None):
    """Draw one Two Rooms layout (walls grey) in pixel coordinates, with optional dot and goal."""
    from ..data import two_rooms as tr

    obs = tr.render(_np.zeros((1, 2)) if pos is None else _np.asarray(pos).reshape(1, 2), wall_x, door_y)[0]
    if pos is None:
        obs[0] = 0
    goal_ch = None if goal is None else tr.render(_np.asarray(goal).reshape(1, 2), wall_x, door_y)[0, 0]
    ax.imshow(tr.to_rgb(obs, goal_ch), extent=_canvas_extent(tr), interpolation="nearest")
    _frame_room(ax, tr)
    _noaxis(ax)
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def plot_observation(obs, rgb):
    """One Two Rooms observation ``uint8 [2, 65, 65]``: its dot and wall channels, next to the
    environment's RGB picture ``rgb`` (:meth:`~ebjepa_mini.data.two_rooms.TwoRoomsEnv.render`)."""
    fig, axes = plt.subplots(1, 3, figsize=(8.4, 2.9))
    for ax, img, title in zip(axes, (obs[0], obs[1], rgb), ("channel 0: the dot", "channel 1: the walls",
                                                          "render(): dot red, goal green")):
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        ax.set_title(title, fontsize=9)
        _noaxis(ax)
    return fig


def plot_plan_energies(ends, distances, energies, start, goal, wall_x: int, door_y: int):
    """Where plans truly end (left, coloured by the model's energy, dark = low) and energy against
    the true final distance to the goal (right): does the energy rank plans by their outcome?"""
    e = _np.asarray(energies)
    fig, axes = plt.subplots(1, 2, figsize=(8.6, 3.3))
    draw_room(axes[0], wall_x, door_y, goal=goal, title=f"where {len(e)} random plans end (true dynamics)")
    axes[0].scatter(ends[:, 0], ends[:, 1], c=e, cmap=ENERGY_CMAP, s=10)
    axes[0].plot(*start, "o", color=PLAN_COLORS["path"], ms=6)
    axes[1].scatter(distances, e, c=e, cmap=ENERGY_CMAP, s=10)
    axes[1].set(xlabel="true final distance to the goal (px)", ylabel="last-state energy d(ẑ_H, z_g)",
                title="the energy ranks plans by where they end")
    fig.tight_layout()
    return fig


def plot_rooms(data: dict, n: int = 6, title: str | None = None):
    """``n`` clips of the offline dataset: layout, the dot's path (start ○, end ●), titled by what the
    clip shows about the inner wall: a door passage, a push the wall stops, or neither."""
    from ..data.two_rooms_walks import wall_contact_stats

    fig, axes = plt.subplots(1, n, figsize=(2.1 * n, 2.4))
    for i, ax in enumerate(_np.atleast_1d(axes)):
        st = wall_contact_stats(data["pos"][i:i + 1], data["actions"][i:i + 1], data["wall_x"][i:i + 1],
                                data["door_y"][i:i + 1])
        label = ("passes the door" if st["clips_passing"] else "stopped by the wall" if st["clips_blocked"]
                 else "stays in its room")
        pos = data["pos"][i]
        draw_room(ax, int(data["wall_x"][i]), int(data["door_y"][i]), title=label)
        _draw_path(ax, pos)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_world_training(history: dict, weights=None, title: str | None = None):
    """Eq. 13 term by term over training (unweighted values, log scale), plus the probe's error in pixels."""
    terms = [("pred", "prediction"), ("variance", "variance (α)"), ("covariance", "covariance (β)"),
             ("similarity", "time similarity (δ)"), ("idm", "inverse dynamics (ω)")]
    fig, axes = plt.subplots(1, 2, figsize=(10.5, 3.3))
    steps = _np.asarray(history["step"])
    for k, label in terms:
        c = WORLD_TERM_COLORS[k]
        if k in history:
            y = _np.clip(_np.asarray(history[k], float), 1e-6, None)
            w = None if weights is None else getattr(weights, k, None)
            axes[0].semilogy(steps, _smooth(y), color=c, lw=1.4,
                             label=label + ("" if w is None or k == "pred" else f" ×{w:g}"))
    axes[0].set(xlabel="step", ylabel="term (unweighted, smoothed)", title="the loss of eq. 13, term by term")
    axes[0].legend(fontsize=7.5)
    if "probe" in history:
        from ..data import two_rooms as tr
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
                       names=None, imagined_label: str = "imagined (probe of the rollout)",
                       error_label: str = "mean position error (px)"):
    """Imagined vs real: decoded latent rollouts (dashed, ``imagined_label``) against the true paths
    (solid) for ``n`` clips (titled ``names[i]``, default "clip i"), and (if ``errors`` ``{name: [H+1]}``
    is given) the error in pixels per rollout step (``error_label``)."""
    from ..data import two_rooms as tr

    cols = n + (errors is not None)
    fig, axes = plt.subplots(1, cols, figsize=(2.6 * cols + (1.2 if errors is not None else 0), 2.8),
                             gridspec_kw={"width_ratios": [1] * n + ([1.6] if errors is not None else [])})
    axes = _np.atleast_1d(axes)
    for i in range(n):
        ax = axes[i]
        draw_room(ax, int(wall_x[i]), int(door_y[i]), title=names[i] if names else f"clip {i + 1}")
        ax.plot(true_pos[i][:, 0], true_pos[i][:, 1], "-", color=PLAN_COLORS["truth"], lw=1.6, label="real path")
        ax.plot(roll_pos[i][:, 0], roll_pos[i][:, 1], "--", color=PLAN_COLORS["rollout"], lw=1.6,
                label=imagined_label)
        ax.plot(*true_pos[i][0], "o", color=PLAN_COLORS["truth"], ms=4)
    axes[0].legend(fontsize=7, loc="lower left")
    if errors is not None:
        ax = axes[-1]
        for (name, err), color in zip(errors.items(), (PLAN_COLORS["rollout"], PLAN_COLORS["truth"], PLAN_COLORS["path"])):
            ax.plot(_np.arange(len(err)), err, lw=2, label=name, color=color)
        ax.axhline(tr.SUCCESS_RADIUS, color=PLAN_COLORS["goal"], ls=":", lw=1,
                   label=f"success radius {tr.SUCCESS_RADIUS:g} px")
        ax.set(xlabel="predictor calls from the encoded frame", ylabel=error_label,
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


def plot_episodes(result, n: int = 8, cols: int = 4, title: str | None = None):
    """Executed paths of ``n`` planning episodes (a :class:`~ebjepa_mini.planning.episodes.PlanResult`)."""
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
        _draw_path(ax, result.paths[i], lw=1.4)
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


def plot_goal_distance(d_goal, success, n: int = 8):
    """Distance to the goal ``d_goal [E, M+1]`` (pixels) along executed paths, for the first ``n``
    episodes: blue where the episode succeeded (``success [E]``), red where it failed; the success radius dotted."""
    from ..data import two_rooms as tr

    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for e in range(min(n, len(d_goal))):
        ax.plot(d_goal[e], color=PLAN_COLORS["path"] if success[e] else PALETTE["sigreg"], lw=1.2)
    ax.axhline(tr.SUCCESS_RADIUS, color=PLAN_COLORS["goal"], ls=":", label="success radius")
    ax.set(xlabel="environment step", ylabel="distance to the goal (px)",
           title="distance to the goal along executed paths (blue success, red failure)")
    ax.legend()
    fig.tight_layout()
    return fig


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
    fig.suptitle("imagined rollouts (decoded): samples grey, elites orange, updated mean red", fontsize=9)
    return fig


def plot_stored_success(stored: dict, rows, paper: dict, title: str):
    """Stored ``bench world`` records next to the paper: one printed line per record, then
    :func:`plot_success_bars`.

    Args:
        stored: ``{file stem: record}`` from :func:`ebjepa_mini.records.stored_results`.
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
            ax.text(xi, 2, "not run", ha="center", va="bottom", rotation=90, fontsize=7, color=NEUTRALS["muted"])
    ax.set_xticks(x, names, fontsize=8)
    ax.set(ylabel="success rate (%)", ylim=(0, 110), title=title or "planning success")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
