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
from .viz import SETTING_NAMES, collapse_dashboard, figure_png

__all__ = ["CollapseLab"]


class CollapseLab(CollapseExperiment):
    """The Collapse Lab: :class:`~ebjepa_mini.collapse.CollapseExperiment` plus a live widget.

    Args:
        preset: ``"ci"``, ``"cpu"``, ``"gpu"``, ``"paper"`` or ``None`` (``EBJEPA_PRESET``/device).
        seed: seed of the model, views and batches.

    Methods:
        ``set(variance=..., covariance=..., sigreg=..., invariance=...)`` switches terms (True/False
        or a weight); ``run(steps)`` trains headless and returns the history (a dict of lists with
        ``"effective_rank"``); ``show()`` (or displaying the object) returns the widget.
    """

    def __init__(self, preset: str | None = "ci", seed: int = 0, **kwargs):
        super().__init__(preset, seed, **kwargs)
        self._ui = None
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

    # -- widget ------------------------------------------------------------------------------------
    def show(self):
        """Build (once) and return the ipywidgets UI."""
        if self._ui is not None:
            return self._ui
        import ipywidgets as W

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
        from matplotlib.figure import Figure

        self._fig = Figure(figsize=(11, 2.9), layout="constrained")   # not pyplot: redrawn from a thread
        self._image = W.Image(format="png", value=figure_png(self.figure(self._fig)), layout=W.Layout(width="100%"))
        self._text = W.HTML(self.readout())
        for k in self._boxes:
            self._boxes[k].observe(lambda ch: self._sync_weights(), names="value")
            self._sliders[k].observe(lambda ch: self._sync_weights(), names="value")
        self._start.on_click(lambda _: self.start())
        self._stopb.on_click(lambda _: self.stop())
        self._reset.on_click(lambda _: self._on_reset())
        rows = [W.HBox([self._boxes[k], self._sliders[k]]) for k in ("variance", "covariance", "sigreg")]
        controls = W.VBox([W.HTML("<b>Regularisers</b> (invariance is always on)"), *rows,
                           W.HBox([self._steps, self._start, self._stopb, self._reset])])
        self._ui = W.VBox([controls, self._text, self._image])
        return self._ui

    def _ipython_display_(self):
        from IPython.display import display

        display(self.show())

    def _sync_weights(self):
        self.set(**{k: (self._sliders[k].value if self._boxes[k].value else 0.0) for k in self._boxes})

    def _redraw(self, _=None):
        if self._ui is not None:
            self._image.value = figure_png(self.figure(self._fig))
            self._text.value = self.readout()
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
                    self._text.value = f"<span style='color:#D55E00'>error: {err}</span>"
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
