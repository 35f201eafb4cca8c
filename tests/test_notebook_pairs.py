"""Each chapter exists twice: chapters/NN_name.py (jupytext percent, the file people edit) and
chapters/NN_name.ipynb (outputs stripped; the page the book builds and Colab opens).

These tests fail when the two drift apart, or when outputs get committed. Fix with `make sync`.
They also require alt text on every figure cell (see ``test_every_figure_cell_has_alt_text``).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
PY_FILES = sorted(CHAPTERS.glob("*.py"))
IPYNB_FILES = sorted(CHAPTERS.glob("*.ipynb"))


def cell_signature(nb) -> list[tuple[str, str, tuple[str, ...], str]]:
    """What must agree between the pair: type, source, tags and MyST-NB options (``mystnb``, e.g.
    a figure's alt text) of every cell, in order.

    Outputs, execution counts, cell ids and other metadata are ignored.
    """
    return [(c.cell_type, c.source, tuple(c.get("metadata", {}).get("tags", [])),
             json.dumps(c.get("metadata", {}).get("mystnb"), sort_keys=True)) for c in nb.cells]


def pair_differences(py_path: Path, ipynb_path: Path) -> list[str]:
    """Human-readable differences between a .py chapter and its .ipynb (empty list = in sync)."""
    if not ipynb_path.exists():
        return [f"{ipynb_path.name} is missing (run `make sync`)"]
    text = cell_signature(jupytext.read(py_path))
    book = cell_signature(nbformat.read(ipynb_path, as_version=4))
    problems = []
    if len(text) != len(book):
        problems.append(f"{py_path.name} has {len(text)} cells, {ipynb_path.name} has {len(book)}")
    for i, (a, b) in enumerate(zip(text, book)):
        if a != b:
            what = ("type" if a[0] != b[0] else "source" if a[1] != b[1] else "tags" if a[2] != b[2]
                    else "mystnb metadata (alt text)")
            first_line = (a[1].splitlines() or [""])[0][:70]
            problems.append(f"cell {i} ({first_line!r}) differs in {what}")
            if len(problems) >= 5:
                break
    return problems


def stored_outputs(ipynb_path: Path) -> list[str]:
    """Code cells of a notebook that carry outputs or an execution count."""
    nb = nbformat.read(ipynb_path, as_version=4)
    return [f"cell {i}" for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]


@pytest.mark.parametrize("py_path", PY_FILES, ids=lambda p: p.name)
def test_py_and_ipynb_have_the_same_cells(py_path):
    problems = pair_differences(py_path, py_path.with_suffix(".ipynb"))
    assert not problems, "pair out of sync, run `make sync`:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("py_path", PY_FILES, ids=lambda p: p.name)
def test_py_declares_the_pairing(py_path):
    formats = jupytext.read(py_path).metadata.get("jupytext", {}).get("formats", "")
    assert "ipynb" in formats and "py:percent" in formats, (
        f"{py_path.name}: the jupytext header must say `formats: ipynb,py:percent` so `make sync` pairs it")


@pytest.mark.parametrize("ipynb_path", IPYNB_FILES, ids=lambda p: p.name)
def test_ipynb_has_a_py_source(ipynb_path):
    assert ipynb_path.with_suffix(".py").exists(), f"{ipynb_path.name} has no jupytext source {ipynb_path.stem}.py"


@pytest.mark.parametrize("ipynb_path", IPYNB_FILES, ids=lambda p: p.name)
def test_committed_ipynb_has_no_outputs(ipynb_path):
    cells = stored_outputs(ipynb_path)
    assert not cells, f"{ipynb_path.name} stores outputs in {cells}; strip them with `make sync`"


# --- alt text: every figure a chapter shows must describe itself to a reader who cannot see it ---
#
# MyST-NB puts a code cell's `mystnb.image.alt` metadata on the <img> of its image outputs
# (myst_nb render_image_options, cell key "image"); without it the page's alt text is the PNG's
# file name. In the .py chapters the metadata sits on the cell header:
#     # %% mystnb={"image": {"alt": "What the figure shows, and what to take from it."}}
# A cell "shows a figure" when its source calls plt.show() (the book's convention for every
# static figure), creates a pyplot figure, calls one of the figure-making functions of
# ebjepa_mini.viz, or displays an IPython Image. Widgets (Collapse Lab, Planner Lab) and the
# chapter 4 animation (an HTML output; viz.offline_jshtml writes its alt text, tested in
# test_video.py) are not image
# outputs, so cell metadata cannot reach them.
FIGURE_CALL = re.compile(
    r"\bplt\.(?:show|subplots|subplot|subplot_mosaic|figure|imshow|matshow)\("
    r"|\bviz\.(?:plot_\w+|show_\w+|compare_\w+|collapse_dashboard|embedding_pca|draw_room)\("
    r"|(?<![\w.])Image\(|\bdisplay\.Image\(")     # IPython's Image (not ipywidgets' W.Image or PIL)
MIN_ALT_CHARS = 40


def shows_figure(cell) -> bool:
    return cell.cell_type == "code" and bool(FIGURE_CALL.search(cell.source))


def alt_text_problems(nb) -> list[str]:
    """Figure cells of a notebook without a usable ``metadata.mystnb.image.alt``."""
    problems = []
    for i, cell in enumerate(nb.cells):
        if not shows_figure(cell):
            continue
        first_line = (cell.source.splitlines() or [""])[0][:60]
        alt = ((cell.get("metadata", {}).get("mystnb") or {}).get("image") or {}).get("alt")
        if not isinstance(alt, str) or not alt.strip():
            problems.append(f"cell {i} ({first_line!r}) shows a figure but has no mystnb.image.alt")
        elif len(alt.strip()) < MIN_ALT_CHARS or re.search(r"\.(png|jpe?g|svg)\b|^figure\b", alt.strip(), re.I):
            problems.append(f"cell {i} ({first_line!r}): alt text {alt!r} does not describe the figure "
                            f"(say what it shows, at least {MIN_ALT_CHARS} characters)")
    return problems


@pytest.mark.parametrize("ipynb_path", IPYNB_FILES, ids=lambda p: p.name)
def test_every_figure_cell_has_alt_text(ipynb_path):
    nb = nbformat.read(ipynb_path, as_version=4)
    assert any(shows_figure(c) for c in nb.cells), f"{ipynb_path.name}: no figure cell found (rule out of date?)"
    problems = alt_text_problems(nb)
    assert not problems, (
        f"{ipynb_path.name}: figure cells need alt text. Add to the cell header in {ipynb_path.stem}.py\n"
        '    # %% mystnb={"image": {"alt": "What the figure shows ..."}}\n'
        "then `make sync`:\n  " + "\n  ".join(problems))


def test_alt_text_rule_catches_a_new_figure():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("fig = viz.plot_something(x)\nplt.show()"),
        nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nax.plot(x)",
                                  metadata={"mystnb": {"image": {"alt": "../_images/abc.png"}}}),
        nbformat.v4.new_code_cell("x = 1 + 1\nprint(x)"),
        nbformat.v4.new_code_cell("lab = CollapseLab('ci')\nlab"),
        nbformat.v4.new_code_cell("fig = viz.compare_collapse(runs)\nplt.show()", metadata={"mystnb": {"image": {
            "alt": "Three panels comparing the settings: effective rank, per-dimension std and spectrum."}}}),
    ])
    problems = alt_text_problems(nb)
    assert [p.split(" (")[0] for p in problems] == ["cell 0", "cell 1"], problems


# --- the checks above must really catch drift: exercise them on a synthetic pair -------------

SYNTHETIC = '''# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 9. A tiny chapter

# %% tags=["solution"]
x = 1 + 1
print(x)
'''


@pytest.fixture
def synthetic_pair(tmp_path):
    py_path = tmp_path / "09_tiny.py"
    py_path.write_text(SYNTHETIC)
    jupytext.write(jupytext.read(py_path), tmp_path / "09_tiny.ipynb")
    return py_path, tmp_path / "09_tiny.ipynb"


def test_synthetic_pair_in_sync(synthetic_pair):
    py_path, ipynb_path = synthetic_pair
    assert pair_differences(py_path, ipynb_path) == []
    assert stored_outputs(ipynb_path) == []


@pytest.mark.parametrize("edit", ["source", "tags", "alt", "extra_cell", "type"])
def test_drift_is_detected(synthetic_pair, edit):
    py_path, ipynb_path = synthetic_pair
    nb = nbformat.read(ipynb_path, as_version=4)
    if edit == "source":
        nb.cells[1].source = "x = 1 + 2\nprint(x)"
    elif edit == "tags":
        nb.cells[1].metadata["tags"] = []
    elif edit == "alt":
        nb.cells[1].metadata["mystnb"] = {"image": {"alt": "an alt text the .py does not have"}}
    elif edit == "extra_cell":
        nb.cells.append(nbformat.v4.new_code_cell("y = 3"))
    else:
        nb.cells[0] = nbformat.v4.new_raw_cell(nb.cells[0].source)
    nbformat.write(nb, ipynb_path)
    assert pair_differences(py_path, ipynb_path)


def test_missing_ipynb_is_detected(synthetic_pair):
    py_path, ipynb_path = synthetic_pair
    ipynb_path.unlink()
    assert pair_differences(py_path, ipynb_path)


def test_outputs_are_detected(synthetic_pair):
    _, ipynb_path = synthetic_pair
    nb = nbformat.read(ipynb_path, as_version=4)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    nb.cells[1].execution_count = 1
    nbformat.write(nb, ipynb_path)
    assert stored_outputs(ipynb_path) == ["cell 1"]


# --- what every chapter gives its readers at the end --------------------------------------------------
EXERCISE_TITLE = re.compile(r"^:::\{exercise\}(?P<title>.*)$", re.M)
DIFFICULTY = ("(warm-up)", "(core)", "(open)")


@pytest.mark.parametrize("py_path", PY_FILES, ids=lambda p: p.stem)
def test_exercises_are_marked_and_further_reading_exists(py_path):
    """Every exercise title starts with its difficulty; every chapter has a Further reading section
    that cites the bibliography, and solution code cells hide their input and output."""
    nb = jupytext.read(py_path)
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    titles = [m.group("title").strip() for m in EXERCISE_TITLE.finditer(md)]
    assert titles, f"{py_path.name}: no exercises"
    unmarked = [t for t in titles if not t.startswith(DIFFICULTY)]
    assert not unmarked, f"{py_path.name}: exercise titles without {DIFFICULTY}: {unmarked}"
    reading = re.search(r"^## Further reading\n(?P<body>.*?)(?=^## |\Z)", md, re.S | re.M)
    assert reading and "{cite:" in reading.group("body"), f"{py_path.name}: no '## Further reading' citing references"
    shown = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "code"
             and "solution" in c.metadata.get("tags", []) and "hide-output" not in c.metadata.get("tags", [])]
    assert not shown, f"{py_path.name}: solution cells that show their output: {shown}"
