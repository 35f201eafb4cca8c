"""The paper's numbers live in one table (ebjepa_mini.paper), which the appendix prints verbatim."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from ebjepa_mini.paper import PAPER_VALUES, paper_table_markdown, paper_value

APPENDIX = Path(__file__).resolve().parents[1] / "book" / "paper_and_book.md"


def test_appendix_prints_the_code_table():
    text = APPENDIX.read_text()
    m = re.search(r"<!-- paper-values:[^>]*-->\n(?P<table>.*?)\n<!-- /paper-values -->", text, re.S)
    assert m, "book/paper_and_book.md lost its paper-values block"
    assert m.group("table").strip() == paper_table_markdown(), (
        "the appendix's table of paper values differs from ebjepa_mini.paper.PAPER_VALUES: paste "
        "paper_table_markdown() between the paper-values markers")


def test_values_have_sources_and_units():
    for key, v in PAPER_VALUES.items():
        assert v.unit in ("%", "s", "AP"), key
        assert v.source and v.what, key
        if v.unit == "%":
            assert 0 <= v.value <= 100, key
        if v.unit == "AP":
            assert 0 <= v.value <= 1, key


def test_unknown_key_names_the_known_ones():
    with pytest.raises(ValueError, match="plan_mppi"):
        paper_value("no_such_number")
