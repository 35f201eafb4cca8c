"""Live widgets in a real browser: the Collapse Lab trains and the Planner Lab plans from JupyterLab's UI.

Starts JupyterLab headless on 127.0.0.1 (free port, random token, a temporary copy of chapters/
as its root, EBJEPA_PRESET=ci), opens a small notebook in headless Chromium, runs it with
Run > Run All Cells, ticks the "variance" and "covariance" regularisers, sets steps to 30, clicks
Train and asserts that the effective-rank readout ("step N · effective rank ...") and the dashboard
image both change. The server and its kernel are shut down at the end.

Bounded: every wait shares one deadline (``BUDGET_S``), so the test ends in under 3 minutes even
when something hangs; each failure says which step did not happen and shows the server log tail.
"""
from __future__ import annotations

import json
import re
import time
import urllib.request

import pytest

pytestmark = pytest.mark.browser

BUDGET_S = 140          # server start to the last assertion; shutdown adds at most ~30 s
NOTEBOOK = "_browser_live_collapse_lab.ipynb"
# A small notebook rather than chapter 2 itself: the chapter runs all four collapse experiments
# (most of its ~90 s ci budget) before it shows the lab. The widget is the same object either way.
CELL = '''from ebjepa_mini.widgets import CollapseLab
lab = CollapseLab("ci")
lab'''
READOUT_RE = re.compile(r"step (\d+) · effective rank (\S+) / (\d+)")


class LiveFailure(AssertionError):
    """A step of the live test failed (the message names it and carries the server log)."""


class Deadline:
    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def ms(self, cap_s: float) -> float:
        """Milliseconds for the next wait: ``cap_s`` or what is left of the budget, if less."""
        left = self.end - time.monotonic()
        if left <= 1:
            raise AssertionError(f"the live-widget test ran out of its {BUDGET_S} s budget")
        return 1000 * min(cap_s, left)


def wait_for_settled_kernel(page, base: str, token: str, deadline: Deadline) -> None:
    """One kernel on the server, the same one for 2 s, and the notebook's indicator idle."""
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').first.wait_for(
        state="attached", timeout=deadline.ms(60))
    seen, stable_since = None, time.monotonic()
    while True:
        with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=10) as r:
            ids = sorted(k["id"] for k in json.load(r))
        if ids != seen:
            seen, stable_since = ids, time.monotonic()
        idle = page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').count() > 0
        if len(ids) == 1 and idle and time.monotonic() - stable_since >= 2:
            return
        deadline.ms(1)  # raises when the budget is spent
        time.sleep(0.5)


def log_tail(server, n: int = 3000) -> str:
    try:
        return server["log"].read_text()[-n:]
    except OSError:
        return "(no log)"


def stepper(title: str, page, shot: str, server):
    """``step(what, fn)``: run ``fn``; on any failure save a screenshot and raise a :class:`LiveFailure`
    that says which step failed, with the error and the tail of the JupyterLab log."""
    def step(what: str, fn):
        try:
            return fn()
        except LiveFailure:
            raise
        except Exception as err:  # Playwright timeouts, failed checks, the deadline
            try:
                page.screenshot(path=shot, full_page=True)
            except Exception:
                pass
            raise LiveFailure(f"{title}: {what} (screenshot {shot}).\n{type(err).__name__}: {str(err)[:500]}\n"
                              f"--- jupyter lab log (tail) ---\n{log_tail(server)}") from err
    return step


def open_and_run_all(page, server, notebook: str, deadline: "Deadline", step) -> None:
    """Open ``notebook`` in JupyterLab, wait for a settled kernel, then Run > Run All Cells."""
    base, token = server["base"], server["token"]
    # (a fresh workspaces dir, so no `?reset` needed)
    step("JupyterLab did not open the notebook",
         lambda: page.goto(f"{base}/lab/tree/{notebook}?token={token}", wait_until="domcontentloaded",
                           timeout=deadline.ms(60)))
    step("the notebook's cell never appeared",
         lambda: page.locator(".jp-Notebook .jp-CodeCell").first.wait_for(state="visible", timeout=deadline.ms(60)))
    # Wait for a settled kernel: "Run All" before the session is ready opens a "Select Kernel"
    # dialog, and under load JupyterLab may start a kernel and replace it at once (seen in CI:
    # the cell was sent to the kernel being shut down and never ran).
    step("the notebook's kernel did not settle (one kernel, idle)",
         lambda: wait_for_settled_kernel(page, base, token, deadline))

    prompt = page.locator(".jp-Notebook .jp-CodeCell .jp-InputArea-prompt").first

    def run_all():  # Run > Run All Cells, through the menu bar as a reader would
        page.locator(".lm-MenuBar-item").filter(has_text=re.compile(r"^Run$")).click()
        page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
        page.wait_for_timeout(500)
        if page.locator(".jp-Dialog").count():  # e.g. "Select Kernel": accept the default, as a reader would
            page.locator(".jp-Dialog .jp-mod-accept").click()

    def run_all_until_it_runs():
        for attempt in range(2):
            run_all()
            try:  # the prompt turns from "[ ]:" to "[*]:" (running) or "[1]:" (done)
                page.wait_for_function("el => /\\[(\\*|\\d+)\\]/.test(el.textContent)",
                                       arg=prompt.element_handle(), timeout=deadline.ms(20))
                return
            except Exception:
                if attempt:
                    raise AssertionError(f"the cell did not start after Run All, twice (prompt "
                                         f"{prompt.text_content()!r})") from None
    step("could not run the notebook with Run > Run All Cells", run_all_until_it_runs)

def open_lab(server, context, screenshot_dir, title: str, notebook: str, heading: str, readout_has: str):
    """The start both live tests share: open ``notebook``, Run All, wait for the lab whose controls show
    ``heading`` and its figure. Returns ``(page, step, shot, lab, readout, image)``; ``readout`` is the
    lab's text line that contains ``readout_has``."""
    deadline = Deadline(BUDGET_S - server["startup_s"])
    page = context.new_page()
    page.set_default_timeout(30_000)
    shot = str(screenshot_dir / f"live_{title.lower().replace(' ', '_')}.png")
    step = stepper(f"live {title}", page, shot, server)
    open_and_run_all(page, server, notebook, deadline, step)

    out = page.locator(".jp-OutputArea-output")
    # the lab's outer VBox: the controls (with their heading), the readout and the figure
    lab = out.locator(".widget-vbox").filter(has_text=heading).filter(has=page.locator(".ebjm-lab-figure img")).first

    def widget_ready():
        try:
            lab.locator(".ebjm-lab-figure img").first.wait_for(state="visible", timeout=deadline.ms(90))
        except Exception:
            errors = out.filter(has=page.locator("pre")).all_inner_texts()
            raise AssertionError(f"no widget after Run All; text outputs of the cell: {errors[-3:]}") from None
    step(f"the {title} widget did not appear", widget_ready)
    readout = lab.locator(".widget-html").filter(has_text=readout_has).first
    return page, step, shot, deadline, lab, readout, lab.locator(".ebjm-lab-figure img").first


@pytest.fixture
def lab_server(jupyter_lab):
    return jupyter_lab({NOTEBOOK: CELL})


def test_collapse_lab_trains_in_jupyterlab(lab_server, context, screenshot_dir):
    page, step, shot, deadline, lab, readout, image = open_lab(
        lab_server, context, screenshot_dir, "Collapse Lab", NOTEBOOK, "Regularisers", "effective rank")
    before_text = readout.inner_text()
    before_src = image.get_attribute("src")
    assert READOUT_RE.search(before_text), f"unexpected initial readout {before_text!r}"

    def configure():
        for name in ("variance", "covariance"):
            box = lab.locator(".widget-checkbox").filter(has=page.get_by_text(name, exact=True)).locator("input")
            box.check()
            assert box.is_checked(), f"the {name!r} checkbox did not tick"
        steps = lab.locator(".widget-text").filter(has=page.get_by_text("steps", exact=True)).locator("input")
        steps.fill("30")
        steps.press("Enter")
        steps.blur()
        assert steps.input_value() == "30", f"steps reads {steps.input_value()!r} after typing 30"
    step("could not tick variance/covariance and set steps to 30", configure)

    train = lab.get_by_role("button", name="Train")
    step("could not click Train", lambda: train.click())

    def finished():
        # the readout reaches step 30 and Train is enabled again (training is over, last redraw done)
        page.wait_for_function(
            """([el, btn]) => /step 30 · effective rank/.test(el.innerText) && !btn.disabled""",
            arg=[readout.element_handle(), train.element_handle()], timeout=deadline.ms(90))
    step("training did not reach 'step 30' (see the readout in the screenshot)", finished)

    after_text, after_src = readout.inner_text(), image.get_attribute("src")
    page.screenshot(path=shot, full_page=True)
    m = READOUT_RE.search(after_text)
    assert after_text != before_text, f"the readout did not change: {after_text!r}"
    assert m and int(m.group(1)) == 30, f"the readout should say step 30: {after_text!r}"
    assert re.fullmatch(r"\d+(\.\d+)?", m.group(2)), f"the effective rank is not a number: {after_text!r}"
    assert after_src and after_src != before_src, "the dashboard image (its src) did not change after training"


PLANNER_NOTEBOOK = "_browser_live_planner_lab.ipynb"
PLANNER_CELL = '''from ebjepa_mini.presets import get_preset
from ebjepa_mini.widgets import PlannerLab
lab = PlannerLab(settings=get_preset("ci").plan)
lab'''


@pytest.fixture
def planner_server(jupyter_lab):
    return jupyter_lab({PLANNER_NOTEBOOK: PLANNER_CELL})


def test_planner_lab_runs_an_episode_in_jupyterlab(planner_server, context, screenshot_dir):
    """Chapter 6's Planner Lab: switch to CEM, click Run episode, the readout reports the episode."""
    page, step, shot, deadline, lab, readout, image = open_lab(
        planner_server, context, screenshot_dir, "Planner Lab", PLANNER_NOTEBOOK, "Planner", "task")
    before_text, before_src = readout.inner_text(), image.get_attribute("src")
    assert "final distance" not in before_text, f"no episode has run yet: {before_text!r}"
    step("could not switch the planner to CEM", lambda: lab.get_by_role("button", name="cem", exact=True).click())
    step("could not click Run episode", lambda: lab.get_by_role("button", name="Run episode").click())
    step("the readout never reported the episode ('success|failure: final distance N px')",
         lambda: page.wait_for_function(
             "el => /(success|failure): final distance/.test(el.innerText)",
             arg=readout.element_handle(), timeout=deadline.ms(90)))
    after_text, after_src = readout.inner_text(), image.get_attribute("src")
    page.screenshot(path=shot, full_page=True)
    assert "cem" in after_text, f"the readout should name the planner that ran: {after_text!r}"
    assert re.search(r"final distance [0-9.]+ px", after_text), after_text
    assert after_src and after_src != before_src, "the Planner Lab figure did not change after the episode"
