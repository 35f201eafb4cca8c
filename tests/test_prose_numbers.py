"""Every number in a chapter's prose that comes from a run is pasted in from its record, never typed.

Chapters quote measured numbers (accuracies, mAP, ranks, stds, times) with MyST-NB glue: a code
cell calls ``glue("ch4_cpu_map_K4", value, display=False)`` with a value read from the live run or
from a stored record (``bench/results/*.json`` via ``ebjepa_mini.records.stored_results``), and the
markdown writes ``{glue:text}`ch4_cpu_map_K4:.3f` ``. These tests fail when

(a) a markdown cell pastes a glue key that no code cell of the same chapter glues (the book build
    would warn and fail, and the text would show nothing), or a glue role's format spec is invalid;
(b) a "What you should see" box types a decimal number or a percentage instead of gluing it: the
    typed number drifts away from the record the figure beside it renders.

Numbers inside inline or display maths (``$...$``) are the chapter's maths (definitions, analytic
values, hyperparameter settings such as $\\lambda = 0.1$) and cross-references (§ 3.7, figure 4.4, eq. 13)
are not scanned: write a measured
number as plain text or, better, glue it. The paper's own published figures may be typed, cited,
outside the boxes; inside a box, glue them from the chapter's constant (e.g. ``PAPER``) or list
them in ``ALLOWED`` below with the reason.
"""
from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.py"))

# Chapters being rewritten right now; the lead empties this set once they land.
PENDING: set[str] = set()

# Typed numbers that may stay in a "What you should see" box: {chapter: {number as written: why}}.
ALLOWED: dict[str, dict[str, str]] = {}

GLUE_ROLE = re.compile(r"\{glue(?::(?P<kind>[a-z]+))?\}`(?P<body>[^`]*)`")
GLUE_CALL = re.compile(r"""\b(?P<fn>glue|glue_across_seeds)\(\s*(?P<f>f?)(?P<q>["'])(?P<key>[^"']+)(?P=q)""")
BOX = re.compile(r"^:::\{admonition\} What you should see[^\n]*\n(?P<body>.*?)^:::\s*$", re.S | re.M)
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)
ROLE = re.compile(r"\{[a-z:\-]+\}`[^`]*`")              # any MyST role: {glue:text}`k:.1%`, {cite:p}`x`, ...
INLINE_CODE = re.compile(r"`[^`\n]*`")                  # `video_cpu-1core.json`, `S.steps`, ...
SECTION = re.compile(r"§\s*\d+(?:\.\d+)*")                 # cross-references: § 3.7, spec §8.2
NUMBERED = re.compile(r"\b(?:[Ff]igures?|[Tt]ables?|[Ee]q(?:uation)?s?\.?)\s*\d+(?:\.\d+)*")  # figure 4.4, eq. 13
GLUE_PAPER = re.compile(r"\bglue_paper\((?P<args>[^)]*)\)")
PERCENT = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?\s*%")
TYPED_NUMBER = re.compile(r"(?<![\w.])(?:\d+(?:[.,]\d+)?\s*%|\d*\.\d+)(?![\w.])")


def chapter_cells(py_path: Path):
    """(markdown sources, code sources) of a jupytext percent chapter."""
    nb = jupytext.read(py_path)
    md = [c.source for c in nb.cells if c.cell_type == "markdown"]
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    return md, code


def glue_refs(markdown: list[str]) -> list[tuple[str, str, str]]:
    """(kind, key, format spec) of every glue role in the markdown cells."""
    out = []
    for src in markdown:
        for m in GLUE_ROLE.finditer(src):
            body = m.group("body")
            key, _, fmt = body.partition(":") if (m.group("kind") or "") == "text" else (body, "", "")
            out.append((m.group("kind") or "any", key.strip(), fmt))
    return out


def glued_keys(code: list[str]) -> list[re.Pattern]:
    """Patterns of the keys the code cells glue: a literal key, or an f-string key such as
    ``f"ch4_cpu_map_{name}"`` whose ``{...}`` fields match one word of letters and digits (``K4``, not
    ``K4_typo``), so a misspelt key in the text is still caught."""
    from ebjepa_mini.paper import PAPER_VALUES

    out = []
    for src in code:
        for m in GLUE_PAPER.finditer(src):      # glue_paper("k", ...) glues paper_k (and paper_k_sd); no keys: all
            keys = re.findall(r"[\"']([^\"']+)[\"']", m.group("args")) or list(PAPER_VALUES)
            out += [re.compile(re.escape(f"paper_{k}{suffix}")) for k in keys for suffix in ("", "_sd")]
        for m in GLUE_CALL.finditer(src):
            key = m.group("key")
            suffixes = ("", "_sd", "_n") if m.group("fn") == "glue_across_seeds" else ("",)   # its three keys
            for suffix in suffixes:
                if m.group("f"):
                    parts = re.split(r"\{[^}]*\}", key)
                    out.append(re.compile("[A-Za-z0-9]+".join(map(re.escape, parts)) + suffix))
                else:
                    out.append(re.compile(re.escape(key + suffix)))
    return out


def is_glued(key: str, glued: list[re.Pattern]) -> bool:
    return any(p.fullmatch(key) for p in glued)


def typed_numbers_in_boxes(markdown: list[str]) -> list[tuple[str, str]]:
    """(number, its context) for every decimal number or percentage typed in a "What you should see"
    box, after removing glue roles, other roles, inline code and maths."""
    hits = []
    for src in markdown:
        for box in BOX.finditer(src):
            text = box.group("body")
            for pattern in (ROLE, MATH, INLINE_CODE, SECTION, NUMBERED):
                text = pattern.sub(" ", text)
            for m in TYPED_NUMBER.finditer(text):
                context = " ".join(text[max(0, m.start() - 40): m.end() + 20].split())
                hits.append((m.group(0), context))
    return hits


def _ids(p: Path) -> str:
    return p.stem


def _skip_pending(py_path: Path) -> None:
    if py_path.stem in PENDING:
        pytest.skip(f"{py_path.stem} is being rewritten (PENDING)")


@pytest.mark.parametrize("py_path", CHAPTERS, ids=_ids)
def test_every_glue_key_is_glued(py_path: Path):
    _skip_pending(py_path)
    md, code = chapter_cells(py_path)
    glued = glued_keys(code)
    missing = sorted({key for _, key, _ in glue_refs(md) if not is_glued(key, glued)})
    assert not missing, (f"{py_path.name}: the text pastes glue keys that no code cell glues "
                         f"(add `glue(\"key\", value, display=False)`): {missing}")


@pytest.mark.parametrize("py_path", CHAPTERS, ids=_ids)
def test_glue_format_specs_are_valid(py_path: Path):
    _skip_pending(py_path)
    md, _ = chapter_cells(py_path)
    bad = []
    for kind, key, fmt in glue_refs(md):
        if kind != "text" or not fmt:
            continue
        sample = "text" if fmt[-1] == "s" else 1 if fmt[-1] in "bcdoxX" else 0.5
        try:
            format(sample, fmt)
        except (ValueError, TypeError) as exc:
            bad.append(f"{key}:{fmt} ({exc})")
    assert not bad, f"{py_path.name}: invalid glue format specs (must end in a type character): {bad}"


@pytest.mark.parametrize("py_path", CHAPTERS, ids=_ids)
def test_no_typed_numbers_in_what_you_should_see(py_path: Path):
    _skip_pending(py_path)
    md, _ = chapter_cells(py_path)
    allowed = ALLOWED.get(py_path.stem, {})
    typed = [f"{num!r} in '... {ctx} ...'" for num, ctx in typed_numbers_in_boxes(md)
             if num.replace(" ", "") not in allowed]
    assert not typed, (f"{py_path.name}: 'What you should see' boxes type measured numbers; glue them "
                       "from the run or the stored record instead:\n  " + "\n  ".join(typed))


# --- the scanners themselves -----------------------------------------------------------------------

def test_scanner_flags_typed_numbers_and_ignores_glue_maths_and_code():
    box = ("Intro.\n\n:::{admonition} What you should see\n"
           "mAP 0.17 beats 0.14, about 50 % and 3.6 px; glued {glue:text}`k_map:.3f` and "
           "{glue:text}`k_acc:.1%`, maths $\\lambda = 0.1$, code `v0.2.json`, 300 steps, {cite:p}`ebjepa2026`, "
           "see § 3.7, figure 4.4, Table 2.1 and eq. 13.\n"
           ":::\n")
    assert [n for n, _ in typed_numbers_in_boxes([box])] == ["0.17", "0.14", "50 %", "3.6"]
    assert typed_numbers_in_boxes(["0.17 outside a box is not scanned"]) == []


def test_glue_refs_and_calls_are_matched():
    md = ["{glue:text}`a:.2f` and {glue:text}`b` and {glue}`c`"]
    assert [(k, key) for k, key, _ in glue_refs(md)] == [("text", "a"), ("text", "b"), ("any", "c")]
    glued = glued_keys(["glue('a', 1.0, display=False)\nglue(\"b\", 'x')\nglue(f\"m_{name}_x\", 2)\n"
                        "glue_across_seeds(f\"s_{name}\", 'video_cpu', f)"])
    assert [is_glued(k, glued) for k in ("a", "b", "m_K4_x", "m__x", "m_K4_typo_x", "c", "ab")] == [True, True, True, False, False, False, False]
    assert [is_glued(k, glued) for k in ("s_K4", "s_K4_sd", "s_K4_n", "s_K4_x", "s__sd")] == [True, True, True, False, False]


def typed_percentages(markdown: list[str]) -> list[str]:
    """Every percentage typed in the prose (outside glue and other roles, inline code and maths)."""
    hits = []
    for src in markdown:
        text = src
        for pattern in (ROLE, MATH, INLINE_CODE):
            text = pattern.sub(" ", text)
        for m in PERCENT.finditer(text):
            hits.append(" ".join(text[max(0, m.start() - 50): m.end() + 10].split()))
    return hits


@pytest.mark.parametrize("py_path", CHAPTERS, ids=_ids)
def test_no_typed_percentages(py_path: Path):
    """A percentage in a chapter's prose is a measured or a published number: glue it, from a record or
    from :data:`ebjepa_mini.paper.PAPER_VALUES` (``glue_paper``), so the appendix's one table of the paper's
    numbers holds every one the book quotes. A setting written as maths (``$35\\,\\%$``) is not scanned."""
    _skip_pending(py_path)
    md, _ = chapter_cells(py_path)
    hits = typed_percentages(md)
    assert not hits, f"{py_path.name}: typed percentages (glue them, or write a setting as maths): {hits}"
