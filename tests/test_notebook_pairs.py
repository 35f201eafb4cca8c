"""Each chapter exists twice: chapters/NN_name.py (jupytext percent, the file people edit) and
chapters/NN_name.ipynb (outputs stripped; the page the book builds and Colab opens).

These tests fail when the two drift apart, or when outputs get committed. Fix with `make sync`.
"""
from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
PY_FILES = sorted(CHAPTERS.glob("*.py"))
IPYNB_FILES = sorted(CHAPTERS.glob("*.ipynb"))


def cell_signature(nb) -> list[tuple[str, str, tuple[str, ...]]]:
    """What must agree between the pair: type, source and tags of every cell, in order.

    Outputs, execution counts, cell ids and other metadata are ignored.
    """
    return [(c.cell_type, c.source, tuple(c.get("metadata", {}).get("tags", []))) for c in nb.cells]


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
            what = "type" if a[0] != b[0] else "source" if a[1] != b[1] else "tags"
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


@pytest.mark.parametrize("edit", ["source", "tags", "extra_cell", "type"])
def test_drift_is_detected(synthetic_pair, edit):
    py_path, ipynb_path = synthetic_pair
    nb = nbformat.read(ipynb_path, as_version=4)
    if edit == "source":
        nb.cells[1].source = "x = 1 + 2\nprint(x)"
    elif edit == "tags":
        nb.cells[1].metadata["tags"] = []
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
