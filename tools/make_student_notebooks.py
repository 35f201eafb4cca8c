"""Write student notebooks: the chapters with their exercise solutions taken out.

    python tools/make_student_notebooks.py                    # chapters/*.ipynb -> student/*.ipynb
    python tools/make_student_notebooks.py -o out chapters/02_collapse.ipynb

Removed from each notebook (see CONTRIBUTING.md, "Exercises"):

* markdown cells that contain a sphinx-exercise ``{solution}`` directive (``:::{solution} ex-..``
  or a ```` ```{solution} ```` fence);
* code cells tagged ``solution``; each is replaced by a code cell ``# Your solution here``;
* everything between ``{solution-start}`` and ``{solution-end}`` (the gated syntax), with the
  same placeholder for each code cell inside.

Outputs and execution counts are cleared, and the jupytext pairing is dropped, so opening a
student notebook in JupyterLab does not create a stray .py next to it.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

PLACEHOLDER = "# Your solution here"
_DIRECTIVE = r"^[ \t]*(?:`{3,}|:{3,})[ \t]*\{%s\}"
SOLUTION = re.compile(_DIRECTIVE % "solution", re.MULTILINE)
GATE_START = re.compile(_DIRECTIVE % "solution-start", re.MULTILINE)
GATE_END = re.compile(_DIRECTIVE % "solution-end", re.MULTILINE)


def _placeholder():
    return nbformat.v4.new_code_cell(PLACEHOLDER)


def strip_solutions(nb):
    """Return ``(student_notebook, n_removed)`` for a notebook node (the input is not modified)."""
    out = nbformat.from_dict(nb)  # deep copy
    cells, removed, in_gate = [], 0, False
    for cell in out.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        is_md = cell.cell_type == "markdown"
        if is_md and GATE_START.search(cell.source):
            removed += 1
            in_gate = not GATE_END.search(cell.source)  # start and end may share one cell
            continue
        if in_gate:
            removed += 1
            if is_md and GATE_END.search(cell.source):
                in_gate = False
            elif cell.cell_type == "code":
                cells.append(_placeholder())
            continue
        if is_md and SOLUTION.search(cell.source):
            removed += 1
            continue
        if cell.cell_type == "code" and "solution" in tags:
            removed += 1
            cells.append(_placeholder())
            continue
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        cells.append(cell)
    if in_gate:
        raise ValueError("a {solution-start} block has no matching {solution-end}")
    out.cells = cells
    out.metadata.pop("widgets", None)
    out.metadata.get("jupytext", {}).pop("formats", None)
    if not out.metadata.get("jupytext", True):
        out.metadata.pop("jupytext")
    return out, removed


def main(argv=None) -> int:
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description="Write student notebooks without exercise solutions.")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: chapters/*.ipynb")
    parser.add_argument("-o", "--out", type=Path, default=root / "student", help="output folder (default: student/)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((root / "chapters").glob("*.ipynb"))
    if not notebooks:
        print("no notebooks found (expected chapters/*.ipynb)", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for path in notebooks:
        student, removed = strip_solutions(nbformat.read(path, as_version=4))
        target = args.out / path.name
        nbformat.write(student, target)
        print(f"{target}: {removed} solution cell(s) removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
