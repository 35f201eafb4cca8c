"""tools/make_student_notebooks.py removes exactly the solutions, on a synthetic chapter."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("make_student_notebooks", ROOT / "tools" / "make_student_notebooks.py")
msn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(msn)

md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell


def chapter():
    nb = nbformat.v4.new_notebook()
    nb.metadata["jupytext"] = {"formats": "ipynb,py:percent"}
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        md("(ch-tiny)=\n# 9. Tiny"),
        code("preset, device = 1, 2", metadata={"tags": ["colab-setup"]}),
        md(":::{exercise} Sum\n:label: ex-tiny-1\nAdd two numbers.\n:::"),
        md(":::{solution} ex-tiny-1\n:class: dropdown\nUse `+`.\n:::"),
        code("answer = 1 + 1\nchecks.check_sum(answer)", metadata={"tags": ["solution", "hide-input"]}),
        md("```{exercise} Product\n:label: ex-tiny-2\n```"),
        md("```{solution} ex-tiny-2\nUse `*`.\n```"),
        md("Text that mentions the word solution and {solution} inline stays."),
        md("```{solution-start} ex-tiny-2\n```"),
        code("answer = 2 * 3"),
        md("More solution prose."),
        md("```{solution-end}\n```"),
        code("print('kept')", metadata={"tags": ["hide-input"]}),
    ]
    nb.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="kept\n")]
    nb.cells[-1].execution_count = 7
    return nb


def test_solutions_are_removed_and_code_solutions_replaced():
    original = chapter()
    student, removed = msn.strip_solutions(original)
    sources = [c.source for c in student.cells]
    assert removed == 7
    assert not any("{solution" in s and s.lstrip().startswith((":::", "```")) for s in sources)
    assert "answer = 1 + 1\nchecks.check_sum(answer)" not in sources and "answer = 2 * 3" not in sources
    assert "More solution prose." not in sources
    assert sources.count(msn.PLACEHOLDER) == 2
    placeholders = [c for c in student.cells if c.source == msn.PLACEHOLDER]
    assert all(c.cell_type == "code" for c in placeholders)
    # exercises, setup, ordinary text and code stay, in order
    kept = [s for s in sources if s != msn.PLACEHOLDER]
    assert kept == [original.cells[i].source for i in (0, 1, 2, 5, 7, 12)]
    assert sources.index(msn.PLACEHOLDER) == 3  # where the code solution was
    last = student.cells[-1]
    assert last.outputs == [] and last.execution_count is None
    assert "formats" not in student.metadata.get("jupytext", {})
    # the input notebook is untouched
    assert len(original.cells) == 13 and original.cells[-1].execution_count == 7
    nbformat.validate(student)


def test_unclosed_gate_is_an_error():
    nb = chapter()
    nb.cells = [c for c in nb.cells if "solution-end" not in c.source]
    with pytest.raises(ValueError, match="solution-end"):
        msn.strip_solutions(nb)


def test_cli_writes_student_folder(tmp_path):
    src = tmp_path / "09_tiny.ipynb"
    nbformat.write(chapter(), src)
    assert msn.main([str(src), "-o", str(tmp_path / "student")]) == 0
    written = nbformat.read(tmp_path / "student" / "09_tiny.ipynb", as_version=4)
    assert sum(c.source == msn.PLACEHOLDER for c in written.cells) == 2
