"""The published numbers the book compares itself with: one table, quoted by glue, never typed.

Every figure of the EB-JEPA paper (or of its reference code's READMEs) that a
chapter quotes lives in :data:`PAPER_VALUES`, with its source. Chapters glue them
(:func:`glue_paper`), the appendix "Paper, reference code and this book" shows the same table
(:func:`paper_table_markdown`, kept equal by ``tests/test_paper_values.py``), and the prose test fails
on a percentage typed into a chapter.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PaperValue", "PAPER_VALUES", "paper_value", "glue_paper", "paper_table_markdown"]


@dataclass(frozen=True)
class PaperValue:
    """One published number: ``value`` in ``unit`` (``"%"``, ``"AP"``, ``"s"``), ``spread`` (± as published,
    or ``None``), where it is published (``source``) and what it measures (``what``)."""

    value: float
    unit: str
    source: str
    what: str
    spread: float | None = None


#: key -> published value. Keys are what chapters glue, as ``paper_<key>``.
PAPER_VALUES: dict[str, PaperValue] = {
    # chapter 3: CIFAR-10, ResNet-18, 300 epochs, linear probe
    "image_sigreg": PaperValue(91.02, "%", "Tables 1 and 3", "CIFAR-10 linear probe, SIGReg, best projector (2048×128)"),
    "image_vicreg": PaperValue(90.12, "%", "Tables 1 and 3", "CIFAR-10 linear probe, VICReg, best projector (2048×1024)"),
    "image_sigreg_lambda10": PaperValue(90.88, "%", "Table 2", "CIFAR-10, SIGReg λ = 10 (loss-weight ablation)"),
    "image_sigreg_lambda0.1": PaperValue(27.20, "%", "Table 2", "CIFAR-10, SIGReg λ = 0.1 (worst setting)"),
    "image_vicreg_std100_cov100": PaperValue(10.00, "%", "Table 2", "CIFAR-10, VICReg std 100, cov 100 (worst setting)"),
    "image_sigreg_noproj": PaperValue(87.75, "%", "Table 3", "CIFAR-10, SIGReg without projector"),
    "image_vicreg_noproj": PaperValue(87.27, "%", "Table 3", "CIFAR-10, VICReg without projector"),
    # chapter 4: Moving MNIST
    "video_best_map": PaperValue(0.607, "AP", "Figure 3", "Moving MNIST mAP, std 10, cov 100, K = 4, 50 epochs"),
    "video_k1_ap0": PaperValue(0.81, "AP", "reference video README figure (read off the plot)", "AP_0, model trained with K = 1"),
    "video_k1_ap6": PaperValue(0.12, "AP", "reference video README figure (read off the plot)", "AP_6, model trained with K = 1"),
    "video_k4_ap0": PaperValue(0.76, "AP", "reference video README figure (read off the plot)", "AP_0, model trained with K = 4"),
    "video_k4_ap6": PaperValue(0.40, "AP", "reference video README figure (read off the plot)", "AP_6, model trained with K = 4"),
    # chapters 5-6: Two Rooms, random layouts unless said
    "plan_mppi": PaperValue(97, "%", "Table 4", "Two Rooms planning success, MPPI, cumulative cost", 2),
    "plan_cem": PaperValue(96, "%", "Table 4", "Two Rooms planning success, CEM, cumulative cost", 2),
    "plan_mppi_last": PaperValue(89, "%", "Table 4", "Two Rooms planning success, MPPI, last-state cost", 2),
    "plan_episode_s": PaperValue(37, "s", "Table 4", "wall time of one 200-step planning episode (hardware not stated)"),
    "plan_fixed_wall": PaperValue(98, "%", "reference ac_video_jepa README", "Two Rooms planning success, fixed wall"),
    "ablation_no_variance": PaperValue(47, "%", "Table 4", "planning success without the variance term", 3),
    "ablation_no_covariance": PaperValue(46, "%", "Table 4", "planning success without the covariance term", 3),
    "ablation_no_similarity": PaperValue(61, "%", "Table 4", "planning success without temporal similarity", 2),
    "ablation_no_idm": PaperValue(1, "%", "Table 4", "planning success without the inverse-dynamics term", 1),
}


def paper_value(key: str) -> PaperValue:
    """The published value ``key`` of :data:`PAPER_VALUES` (``ValueError`` naming the keys otherwise)."""
    if key not in PAPER_VALUES:
        raise ValueError(f"unknown paper value {key!r}; known: {', '.join(PAPER_VALUES)}")
    return PAPER_VALUES[key]


def glue_paper(*keys: str) -> None:
    """Glue published values for a chapter's prose: ``paper_<key>`` (and ``paper_<key>_sd`` where a ±
    is published). No keys: all of them. Inside a notebook only (MyST-NB's glue)."""
    from .records import glue

    for key in keys or tuple(PAPER_VALUES):
        v = paper_value(key)
        glue(f"paper_{key}", v.value, display=False)
        if v.spread is not None:
            glue(f"paper_{key}_sd", v.spread, display=False)


def paper_table_markdown() -> str:
    """The table of :data:`PAPER_VALUES` as the appendix prints it (Markdown, one row per key)."""
    rows = ["| key | value | source | what |", "|---|---|---|---|"]
    for key, v in PAPER_VALUES.items():
        spread = f" ± {v.spread:g}" if v.spread is not None else ""
        unit = {"%": " %", "s": " s", "AP": ""}[v.unit]
        rows.append(f"| `{key}` | {v.value:g}{spread}{unit} | {v.source} | {v.what} |")
    return "\n".join(rows)
