"""The Collapse Lab (chapter 2), the book's key behaviour: without a regulariser the image JEPA
collapses completely, VICReg keeps it healthy, variance alone leaves a dimensional collapse.

The three runs share one lab (module-scoped fixture) to keep the module at about 30 s on 2 cores.
Runs on real MNIST when ``EBJEPA_DATA`` holds it, otherwise on the labelled fallback digits.
"""
from __future__ import annotations

import time

import pytest

from ebjepa_mini.collapse import SWITCHES
from ebjepa_mini.widgets import CollapseLab

STEPS = 200                 # the ci preset's run length, as in the chapter
VARIANCE_ONLY_STEPS = 60    # the variance-only run is dimensionally collapsed from the first evaluations on


@pytest.fixture(scope="module")
def lab_runs():
    lab = CollapseLab("ci", seed=0)
    out = {"lab": lab, "embed_dim": lab.cfg.embed_dim}

    lab.set(variance=False, covariance=False, sigreg=False)
    h = lab.run(STEPS)
    out["none"] = {"history": h, "report": lab.report(), "step": lab.trainer.step, "label": lab.weights.label}

    lab.reset()
    lab.set(variance=True, covariance=True)
    h = lab.run(STEPS)
    out["vicreg"] = {"history": h, "report": lab.report(), "step": lab.trainer.step, "label": lab.weights.label}

    lab.reset()
    lab.set(variance=True, covariance=False)
    h = lab.run(VARIANCE_ONLY_STEPS)
    out["variance"] = {"history": h, "report": lab.report(), "step": lab.trainer.step,
                       "label": lab.weights.label}
    return out


def test_no_regulariser_collapses_completely(lab_runs):
    run = lab_runs["none"]
    h = run["history"]
    assert run["label"] == "none" and run["step"] == STEPS
    assert h["effective_rank"][-1] < 2
    assert run["report"].verdict == "complete collapse"
    assert h["verdict"][-1] == "complete collapse"
    assert h["mean_std"][-1] < 0.5 * max(h["mean_std"])            # the spread shrinks during training
    assert h["relative_spread"][-1] < 0.05
    assert h["invariance"][-1] < 0.01 * h["invariance"][0]          # the invariance term is "solved" ...
    assert h["invariance"][-1] < 1e-3                               # ... by mapping every view to one point


def test_vicreg_keeps_the_embedding_healthy(lab_runs):
    run, none = lab_runs["vicreg"], lab_runs["none"]
    h = run["history"]
    er, er_none = h["effective_rank"][-1], none["history"]["effective_rank"][-1]
    assert run["label"] == "vicreg" and run["step"] == STEPS
    assert er >= 4 * er_none
    assert er >= 0.25 * lab_runs["embed_dim"]
    assert run["report"].verdict == "healthy"
    assert h["effective_rank"][-1] > h["effective_rank"][0]        # the rank grows from the initial one
    assert h["relative_spread"][-1] > 0.3
    assert h["mean_std"][-1] > 10 * none["history"]["mean_std"][-1]
    assert "variance" in h and "covariance" in h and "sigreg" in h  # monitored terms


def test_variance_alone_gives_dimensional_collapse(lab_runs):
    run = lab_runs["variance"]
    assert run["label"] == "variance" and run["step"] == VARIANCE_ONLY_STEPS
    assert run["report"].verdict == "dimensional collapse"
    assert run["report"].mean_std > 0.5                            # spread kept up by the hinge ...
    assert run["report"].effective_rank < 0.1 * lab_runs["embed_dim"]   # ... along very few directions


def test_history_keys(lab_runs):
    h = lab_runs["none"]["history"]
    for key in ("effective_rank", "eval_step", "total", "invariance", "step", "verdict"):
        assert key in h
    assert len(h["total"]) == len(h["step"]) == STEPS
    assert h["eval_step"][0] == 0 and h["eval_step"][-1] == STEPS
    assert len(h["effective_rank"]) == len(h["eval_step"])
    # the unregularised total is the invariance term alone
    assert h["total"] == pytest.approx(h["invariance"])


def test_set_validates_switches(lab_runs):
    lab = lab_runs["lab"]
    with pytest.raises(ValueError) as err:
        lab.set(varience=True)
    for name in SWITCHES:
        assert name in str(err.value)
    assert "varience" in str(err.value)
    with pytest.raises(ValueError, match="variance"):
        lab.set(variance="yes")
    with pytest.raises(ValueError, match="sigreg"):
        lab.set(sigreg=-1.0)
    with pytest.raises(ValueError, match="covariance"):
        lab.set(covariance=float("nan"))
    before = lab.weights
    lab.set(sigreg=2.5)
    assert lab.weights.sigreg == 2.5 and lab.weights.variance == before.variance
    lab.set(sigreg=False)
    assert lab.weights == before


def test_background_training_and_stop(lab_runs):
    lab = lab_runs["lab"]
    t0 = time.perf_counter()
    lab.stop()                                                     # before any start: returns at once
    assert time.perf_counter() - t0 < 5
    before = lab.trainer.step
    thread = lab.start(steps=20)
    assert thread is lab._thread
    lab._thread.join(timeout=120)
    assert not lab._thread.is_alive()
    assert lab.trainer.step == before + 20
    assert lab.metrics["step"][-1] == before + 20
    lab.stop()                                                     # after the thread ended: no hang


def test_show_and_readout(lab_runs):
    import ipywidgets as W

    lab = lab_runs["lab"]
    ui = lab.show()
    assert isinstance(ui, W.VBox)
    assert lab.show() is ui                                        # built once
    text = lab.readout()
    assert "effective rank" in text
    assert f"{lab.metrics['effective_rank'][-1]:.2f}" in text
    assert lab.report().verdict in text


def test_dashboard_image_carries_alt_text_that_follows_the_state(lab_runs):
    lab = lab_runs["lab"]
    lab.show()
    html = lab._image.value
    assert html.startswith('<img src="data:image/png;base64,') and "ebjm-lab-figure" in lab._image._dom_classes
    alt = html.split('alt="', 1)[1].split('"', 1)[0]
    assert f"after {lab.trainer.step} training steps" in alt and lab.report().verdict in alt
    before = lab.trainer.step
    lab.start(steps=3).join()
    lab._redraw()
    assert f"after {before + 3} training steps" in lab._image.value
