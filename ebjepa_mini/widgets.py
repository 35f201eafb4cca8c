"""Live labs for the notebooks, with static fallbacks for the rendered book.

:class:`CollapseLab` (chapter 2) trains a small image JEPA while a reader switches
regularisers on and off and watches the effective rank, the per-dimension std and the
covariance spectrum change. Training runs in a background thread so the Stop button
stays responsive; headless, ``lab.run(steps)`` trains synchronously and returns the
history, which is how the chapter's static figures and the tests use it.
"""
from __future__ import annotations

import threading

from .collapse import DEFAULT_WEIGHTS, CollapseExperiment
from .presets import COSTS, PLANNERS
from .viz import SETTING_NAMES, collapse_dashboard, figure_img_html

__all__ = ["CollapseLab", "PlannerLab"]

ERROR_COLOR = "#D55E00"


class LabView:
    """What the two labs share on screen: the lab's controls, a one-line readout and a figure below.

    A lab defines ``figure(fig)``, ``figure_alt()``, ``readout()`` and ``_controls(W)`` (the ipywidgets
    box of its controls, ``W`` the ipywidgets module); :attr:`FIGSIZE` is its figure's size in inches.
    The figure is a :class:`matplotlib.figure.Figure`, not pyplot, so a background thread can redraw it.
    """

    FIGSIZE: tuple[float, float] = (8.4, 4.0)
    _ui = None

    def show(self):
        """Build (once) and return the ipywidgets UI."""
        if self._ui is not None:
            return self._ui
        import ipywidgets as W
        from matplotlib.figure import Figure

        self._fig = Figure(figsize=self.FIGSIZE, layout="constrained")
        self._image = W.HTML(figure_img_html(self.figure(self._fig), self.figure_alt()),
                             layout=W.Layout(width="100%"))
        self._image.add_class("ebjm-lab-figure")
        self._text = W.HTML(self.readout())
        self._ui = W.VBox([self._controls(W), self._text, self._image])
        return self._ui

    def _ipython_display_(self):
        from IPython.display import display

        display(self.show())

    def _draw(self) -> None:
        """Redraw the figure and the readout of a shown lab."""
        self._image.value = figure_img_html(self.figure(self._fig), self.figure_alt())
        self._text.value = self.readout()

    def _show_error(self, err: Exception) -> None:
        """Show an error in the readout instead of losing it (in a callback or a thread)."""
        self._text.value = f"<span style='color:{ERROR_COLOR}'>error: {err}</span>"


class CollapseLab(LabView, CollapseExperiment):
    """The Collapse Lab: :class:`~ebjepa_mini.collapse.CollapseExperiment` plus a live widget.

    Args:
        preset: ``"ci"``, ``"cpu"``, ``"gpu"``, ``"paper"`` or ``None`` (``EBJEPA_PRESET``/device).
        seed: seed of the model, views and batches.

    Methods:
        ``set(variance=..., covariance=..., sigreg=..., invariance=...)`` switches terms (True/False
        or a weight); ``run(steps)`` trains headless and returns the history (a dict of lists with
        ``"effective_rank"``); ``show()`` (or displaying the object) returns the widget.
    """

    FIGSIZE = (11, 2.9)

    def __init__(self, preset: str | None = "ci", seed: int = 0, **kwargs):
        super().__init__(preset, seed, **kwargs)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # -- static rendering --------------------------------------------------------------------------
    def figure(self, fig=None):
        """The dashboard of the current state (a pyplot Figure, or drawn into ``fig``)."""
        rep = self.report()
        title = (f"{SETTING_NAMES.get(self.weights.label, self.weights.label)} — step {self.trainer.step} — "
                 f"{rep.verdict}: RankMe {self.metrics['effective_rank'][-1]:.2f} / {rep.dim}, "
                 f"mean std {rep.mean_std:.3g}")
        return collapse_dashboard(self.history, self.embeddings(), fig=fig, title=title)

    def readout(self) -> str:
        """One line: step, effective rank, verdict (the widget's text readout)."""
        rep = self.report()
        er = self.metrics["effective_rank"][-1]
        return (f"step {self.trainer.step} · effective rank {er:.2f} / {rep.dim} (RankMe) · "
                f"mean std {rep.mean_std:.3g} · <b>{rep.verdict}</b>")

    def figure_alt(self) -> str:
        """Alt text of the dashboard image, describing the current state."""
        rep = self.report()
        on = [k for k in ("variance", "covariance", "sigreg") if getattr(self.weights, k) > 0]
        return (f"Collapse Lab dashboard after {self.trainer.step} training steps with "
                f"{', '.join(on) or 'no regulariser'}: effective rank over training, now "
                f"{self.metrics['effective_rank'][-1]:.1f} of {rep.dim} ({rep.verdict}); the loss terms; the "
                f"per-dimension standard deviation and the covariance spectrum of the embeddings.")

    # -- widget ------------------------------------------------------------------------------------
    def _controls(self, W):
        w = self.weights
        self._boxes = {k: W.Checkbox(value=getattr(w, k) > 0, description=k, indent=False,
                                     layout=W.Layout(width="110px"))
                       for k in ("variance", "covariance", "sigreg")}
        self._sliders = {k: W.FloatLogSlider(value=max(getattr(w, k), 0) or DEFAULT_WEIGHTS[k], base=10, min=-2,
                                             max=2.5, step=0.1, description="weight", readout_format=".2g",
                                             layout=W.Layout(width="300px"))
                         for k in ("variance", "covariance", "sigreg")}
        self._steps = W.BoundedIntText(value=self.cfg.steps, min=1, max=100_000, description="steps",
                                       layout=W.Layout(width="170px"))
        self._start = W.Button(description="Train", icon="play", button_style="success")
        self._stopb = W.Button(description="Stop", icon="stop", button_style="warning", disabled=True)
        self._reset = W.Button(description="Reset model", icon="refresh")
        for k in self._boxes:
            self._boxes[k].observe(lambda ch: self._sync_weights(), names="value")
            self._sliders[k].observe(lambda ch: self._sync_weights(), names="value")
        self._start.on_click(lambda _: self.start())
        self._stopb.on_click(lambda _: self.stop())
        self._reset.on_click(lambda _: self._on_reset())
        rows = [W.HBox([self._boxes[k], self._sliders[k]]) for k in ("variance", "covariance", "sigreg")]
        return W.VBox([W.HTML("<b>Regularisers</b> (invariance is always on)"), *rows,
                       W.HBox([self._steps, self._start, self._stopb, self._reset])])

    def _sync_weights(self):
        self.set(**{k: (self._sliders[k].value if self._boxes[k].value else 0.0) for k in self._boxes})

    def _redraw(self, _=None):
        if self._ui is not None:
            self._draw()
        return self._stop.is_set()

    def _on_reset(self):
        self.stop()
        self.reset()
        self._redraw()

    def start(self, steps: int | None = None) -> threading.Thread:
        """Train in a background thread (the widget's Train button); returns the thread."""
        if self._thread is not None and self._thread.is_alive():
            return self._thread
        if self._ui is not None:
            self._sync_weights()
            steps = steps or int(self._steps.value)
            self._start.disabled, self._stopb.disabled = True, False
        self._stop.clear()

        def work():
            try:
                self.run(steps, callback=self._redraw, stop_event=self._stop)
            except Exception as err:  # show the error in the widget instead of losing it in a thread
                if self._ui is not None:
                    self._show_error(err)
                raise
            finally:
                if self._ui is not None:
                    self._redraw()
                    self._start.disabled, self._stopb.disabled = False, True

        self._thread = threading.Thread(target=work, daemon=True, name="collapse-lab")
        self._thread.start()
        return self._thread

    def stop(self, wait: bool = True) -> None:
        """Ask the background training to stop after the current step."""
        self._stop.set()
        if wait and self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)


class PlannerLab(LabView):
    """The Planner Lab (chapter 6): plan through the door with a trained world model.

    A reader picks a task (start and goal in different rooms; in the fixed layout when the model was
    trained there, else a random layout), the
    planner (MPPI or CEM), its temperature, samples, elites, horizon and the cost (cumulative or
    last state), then plans one step (to see the imagined rollouts: samples, elites, mean,
    decoded to positions by their nearest encodings) or runs a whole episode (to see the executed path).

    Args:
        run: a :class:`~ebjepa_mini.world.WorldRun`; default: the committed pretrained model.
        settings: :class:`~ebjepa_mini.presets.PlanSettings`; default: the current preset's.
        task_seed: seed of the task list (task ``i`` is the ``i``-th of ``sample_tasks(100, task_seed)``,
            fixed-wall tasks for a model trained in the fixed layout).

    Headless: ``lab.set(...)``, ``lab.plan_once()``, ``lab.run_episode()``, ``lab.figure()``; ``show()``
    (or displaying the object) returns the widget.
    """

    PARAMS = ("planner", "cost", "temperature", "num_samples", "num_elites", "horizon", "task")

    def __init__(self, run=None, settings=None, task_seed: int | None = None, seed: int = 0):
        from .data.two_rooms import EVAL_SEED, sample_tasks
        from .presets import get_preset
        from .world import load_world_model

        self.run = run if run is not None else load_world_model()
        self.settings = settings if settings is not None else get_preset().plan
        self.tasks = sample_tasks(100, seed=EVAL_SEED if task_seed is None else task_seed,
                                  fixed_wall=self.run.settings.fixed_wall)
        self.seed = seed
        self.task = 0
        self.history: list = []
        self.episode = None

    # -- state -------------------------------------------------------------------------------------
    def set(self, **kw) -> "PlannerLab":
        """Change ``task`` or any :class:`PlanSettings` field, ``planner`` and ``cost`` included (validated)."""
        from dataclasses import fields, replace

        plan_fields = {f.name for f in fields(self.settings)}
        for k, v in kw.items():
            if k == "task":
                if not isinstance(v, int) or not 0 <= v < len(self.tasks["start"]):
                    raise ValueError(f"task must be an int in 0..{len(self.tasks['start']) - 1}, got {v!r}")
                self.task = v
            elif k in plan_fields:
                self.settings = replace(self.settings, **{k: v})
            else:
                raise ValueError(f"unknown setting {k!r}; allowed: task, {', '.join(sorted(plan_fields))}")
        return self

    @property
    def planner(self) -> str:
        return self.settings.planner

    @property
    def cost(self) -> str:
        return self.settings.cost

    def _task(self) -> dict:
        i = self.task
        return {k: v[i:i + 1] for k, v in self.tasks.items()}

    def _decode(self, actions):
        """Positions of the imagined rollouts of ``actions [N, H, 2]`` from the task's start, each latent
        decoded by its nearest encoding (:func:`~ebjepa_mini.planning.yardsticks.imagined_positions`)."""
        import numpy as np

        from .planning import imagined_positions

        t, n = self._task(), len(actions)
        return imagined_positions(self.run.model, {"start": np.repeat(t["start"], n, 0), "wall_x": np.repeat(t["wall_x"], n),
                                                   "door_y": np.repeat(t["door_y"], n)}, actions)

    def plan_once(self) -> list:
        """Optimise one plan from the task's start; keeps (and returns) the per-iteration history."""
        import torch

        from .data import two_rooms as tr
        from .planning import plan_step

        t, m = self._task(), self.run.model
        with torch.no_grad():
            z0 = m.encode(tr.observe(t["start"], t["wall_x"], t["door_y"]))
            zg = m.encode(tr.observe(t["goal"], t["wall_x"], t["door_y"]))
            self.history = []
            plan_step(m, z0, zg, self.settings, generator=torch.Generator().manual_seed(self.seed), history=self.history)
        return self.history

    def run_episode(self):
        """Plan and act for ``settings.max_steps`` steps on the current task; returns the PlanResult."""
        from .planning import evaluate

        self.episode = evaluate(self.run.model, self._task(), self.settings, seed=self.seed)
        return self.episode

    # -- rendering ---------------------------------------------------------------------------------
    def figure(self, fig=None):
        """Left: the last plan's imagined rollouts; right: the executed episode (if any)."""
        import matplotlib.pyplot as plt

        from .viz import PLAN_COLORS, draw_plan_iteration, draw_room

        t = self._task()
        wx, dy = int(t["wall_x"][0]), int(t["door_y"][0])
        if fig is None:
            fig = plt.figure(figsize=(8.4, 4.0))
        fig.clear()
        ax1, ax2 = fig.subplots(1, 2)
        draw_room(ax1, wx, dy, goal=t["goal"][0], title="imagined: samples, elites, mean (last iteration)")
        if self.history:
            draw_plan_iteration(ax1, self.history[-1], self._decode)
        ax1.plot(*t["start"][0], "o", color=PLAN_COLORS["path"], ms=5)
        draw_room(ax2, wx, dy, goal=t["goal"][0], title="executed episode")
        ax2.plot(*t["start"][0], "o", mfc="none", mec=PLAN_COLORS["path"], ms=6)
        if self.episode is not None:
            p = self.episode.paths[0]
            ax2.plot(p[:, 0], p[:, 1], color=PLAN_COLORS["path"], lw=1.6)
            ax2.plot(*p[-1], "o", color=PLAN_COLORS["path"], ms=4)
        fig.suptitle(f"task {self.task} · {self.planner.upper()} · {self.cost} cost", fontsize=10)
        return fig

    def figure_alt(self) -> str:
        """Alt text of the lab's image, describing the current task, plan and episode."""
        t = self._task()
        text = (f"Planner Lab, task {self.task}: two Two Rooms panels, inner wall at x = {int(t['wall_x'][0])} with "
                f"the door at y = {int(t['door_y'][0])}, goal in green. Left: the rollouts that "
                f"{self.planner.upper()} ({self.cost} cost) imagined in its last iteration, samples in grey, elites "
                f"in orange, the mean in red. Right: the executed path")
        if self.episode is None:
            return text + " (no episode run yet)."
        ok = "reaches the goal" if self.episode.success[0] else "fails"
        return text + f", which {ok}: final distance {self.episode.final_distance[0]:.1f} px."

    def readout(self) -> str:
        s = self.settings
        text = (f"task {self.task} · {self.planner} · {self.cost} · τ {s.temperature:g} · N {s.num_samples} · "
                f"Q {s.num_elites} · H {s.horizon}")
        if self.episode is not None:
            ok = "success" if self.episode.success[0] else "failure"
            text += (f" · <b>{ok}</b>: final distance {self.episode.final_distance[0]:.1f} px in "
                     f"{self.episode.plan_s:.1f} s")
        return text

    # -- widget ------------------------------------------------------------------------------------
    def _controls(self, W):
        s = self.settings
        self._w = {
            "planner": W.ToggleButtons(options=list(PLANNERS), value=self.planner, description="planner"),
            "cost": W.ToggleButtons(options=list(COSTS), value=self.cost, description="cost"),
            "temperature": W.FloatLogSlider(value=s.temperature, base=10, min=-3, max=3, step=0.1,
                                            description="τ (MPPI)", readout_format=".3g"),
            "num_samples": W.IntSlider(value=s.num_samples, min=10, max=400, step=10, description="samples N"),
            "num_elites": W.IntSlider(value=s.num_elites, min=1, max=100, description="elites Q"),
            "horizon": W.IntSlider(value=s.horizon, min=5, max=120, step=5, description="horizon H"),
            "task": W.BoundedIntText(value=self.task, min=0, max=len(self.tasks["start"]) - 1, description="task"),
        }
        self._planb = W.Button(description="Plan one step", icon="eye")
        self._runb = W.Button(description="Run episode", icon="play", button_style="success")
        self._planb.on_click(lambda _: self._act(self.plan_once))
        self._runb.on_click(lambda _: self._act(lambda: (self.plan_once(), self.run_episode())))
        return W.VBox([W.HTML("<b>Planner</b>"), self._w["planner"], self._w["cost"],
                       W.HBox([self._w["temperature"], self._w["num_samples"]]),
                       W.HBox([self._w["num_elites"], self._w["horizon"]]),
                       W.HBox([self._w["task"], self._planb, self._runb])])

    def _act(self, fn):
        try:
            self.set(**{k: w.value for k, w in self._w.items()})
            self._text.value = self.readout() + " · <i>working…</i>"
            self.episode = None if fn == self.plan_once else self.episode
            fn()
            self._draw()
        except Exception as err:   # show the problem in the widget
            self._show_error(err)
