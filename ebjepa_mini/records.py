"""Benchmark records: where they live, how they are named, read and written (``bench/results/README.md``).

``python -m ebjepa_mini.bench`` writes one JSON record per benchmark, preset and configuration;
chapters, the results page and the status page read them with :func:`stored_results`.
"""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import torch

__all__ = ["glue", "glue_across_seeds", "results_dir", "stored_results", "chapter_wall_s", "record_name", "write_json", "hardware", "upgrade_weight_names",
           "across_seeds",
           "OLD_NAMES"]

#: Weight names that records, model cards and checkpoints written before "one name per weight"
#: (issue 21) still carry, by where they sit: eq. 13 terms and weights (``weights``, ``history``,
#: ``final_losses``), the image/video settings' weights, and WorldSettings' flat coefficients (today
#: its ``weights``). Only the reading side renames them; the stored files keep them.
OLD_NAMES = {"terms": {"std": "variance", "cov": "covariance", "sim": "similarity"},
             "settings": {"vicreg_std": "variance", "vicreg_cov": "covariance", "sigreg_lambda": "sigreg"},
             "world_coefficients": {"std_coeff": "variance", "cov_coeff": "covariance", "sim_coeff": "similarity",
                                    "idm_coeff": "idm"}}


def glue(name: str, value, display: bool = True) -> None:
    """MyST-NB's ``glue``: a chapter hands a measured number to its prose (``{glue:text}`name```), so no
    measured number is typed. Outside a book build without ``myst_nb`` (e.g. on Colab) it does nothing
    and the text shows the key."""
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=display)


def glue_across_seeds(key: str, stem: str, value) -> dict:
    """Glue one number of record ``stem`` over its stored seeds (:func:`across_seeds`): the mean as
    ``key``, the standard deviation as ``key_sd`` and the number of seeds as ``key_n``. Returns the spread."""
    s = across_seeds(stem, value)
    glue(key, s["mean"], display=False)
    glue(f"{key}_sd", s["sd"], display=False)
    glue(f"{key}_n", s["n"], display=False)
    return s


def results_dir() -> Path:
    """The repository's ``bench/results`` folder, found upwards from the working directory (chapters
    execute in ``chapters/``); ``bench/results`` relative to it when there is none (e.g. on Colab)."""
    for base in [Path.cwd(), *Path.cwd().parents]:
        if (base / "bench" / "results").is_dir():
            return base / "bench" / "results"
    return Path("bench", "results")


def stored_results(pattern: str = "*.json", folder: str | os.PathLike | None = None) -> dict[str, dict]:
    """Stored benchmark records matching ``pattern`` (e.g. ``"world_*_cpu.json"``), by file stem, sorted.

    Each record holds the benchmark's summary plus ``preset``, ``hardware``, ``date``, ``command``.
    ``folder``: another folder (e.g. ``results_dir() / "archive"``).
    """
    base = results_dir() if folder is None else Path(folder)
    return {p.stem: upgrade_weight_names(json.loads(p.read_text())) for p in sorted(base.glob(pattern))}


def chapter_wall_s(chapter: str) -> dict[str, float]:
    """Seconds ``chapter`` (e.g. ``"05_world_models"``) took to execute, by preset, from the stored
    ``bench chapters`` records (``chapters_<preset>.json``); presets without a record are left out."""
    out = {}
    for preset in ("ci", "cpu"):
        rec = stored_results(f"chapters_{preset}.json").get(f"chapters_{preset}", {})
        if chapter in rec.get("wall_s_by_chapter", {}):
            out[preset] = float(rec["wall_s_by_chapter"][chapter])
    return out


def upgrade_weight_names(record: dict) -> dict:
    """A record, model card or checkpoint state with today's weight names (:data:`OLD_NAMES`); a copy.

    Renames the keys of ``weights``, ``history`` and ``final_losses`` (``"std"`` -> ``"variance"``, ...)
    and of ``settings`` / ``world_settings`` (``vicreg_std`` -> ``variance``, ...), gathering a world
    model's old ``std_coeff``, ``cov_coeff``, ``sim_coeff``, ``idm_coeff`` into ``settings["weights"]``
    as :class:`~ebjepa_mini.presets.WorldSettings` holds them now. New records pass unchanged.
    """
    out = dict(record)
    for key in ("weights", "history", "final_losses"):
        if isinstance(out.get(key), dict):
            out[key] = {OLD_NAMES["terms"].get(k, k): v for k, v in out[key].items()}
    for key in ("settings", "world_settings"):
        if isinstance(out.get(key), dict):
            s = {OLD_NAMES["settings"].get(k, k): v for k, v in out[key].items()}
            world = {new: s.pop(old) for old, new in OLD_NAMES["world_coefficients"].items() if old in s}
            if world:
                s["weights"] = {**world, **(s.get("weights") or {})}
            out[key] = s
    return out


def record_name(benchmark: str, preset: str, variants=(), tag: str | None = None, seed: int = 0) -> str:
    """The file name of a record: ``NAME[_VARIANT...]_PRESET[-TAG][-seedS].json`` (``None`` variants are
    left out; seed 0, the default run, carries no seed suffix)."""
    parts = [benchmark, *(v for v in variants if v), preset]
    suffix = "".join(f"-{t}" for t in (tag, f"seed{seed}" if seed else None) if t)
    return "_".join(parts) + suffix + ".json"


def across_seeds(stem: str, value, folder: str | os.PathLike | None = None) -> dict:
    """One number of record ``stem`` (e.g. ``"video_cpu"``, seed 0) and of its ``STEM-seedS`` siblings.

    ``value``: a function from a record to the number, e.g. ``lambda r: r["map"]["K4"]``.
    Returns ``{"values": [...], "seeds": [...], "n": n, "mean": m, "sd": s, "min": lo, "max": hi}``
    (``sd`` is the sample standard deviation, 0 for one seed); ``n == 0`` when no record exists.
    ``folder``: another folder than :func:`results_dir`.
    """
    recs = stored_results(f"{stem}.json", folder)
    recs.update(stored_results(f"{stem}-seed*.json", folder))
    seeds, values = [], []
    for name, rec in recs.items():
        tail = name[len(stem):]
        if tail == "" or (tail.startswith("-seed") and tail[5:].isdigit()):
            seeds.append(int(tail[5:]) if tail else 0)
            values.append(float(value(rec)))
    n = len(values)
    mean = sum(values) / n if n else float("nan")
    sd = (sum((v - mean) ** 2 for v in values) / (n - 1)) ** 0.5 if n > 1 else 0.0
    order = sorted(range(n), key=seeds.__getitem__)
    return {"values": [values[i] for i in order], "seeds": [seeds[i] for i in order], "n": n, "mean": mean,
            "sd": sd, "min": min(values, default=float("nan")), "max": max(values, default=float("nan"))}


def write_json(path: str | os.PathLike, obj) -> Path:
    """Write ``obj`` as indented JSON atomically (a temporary file in the same folder, then a rename),
    so a reader never sees half a record."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def hardware() -> str:
    """A short description of the machine: CPU model and cores (and GPU if used)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    desc = f"{cpu}, {os.cpu_count()} cores"
    try:
        usable = len(os.sched_getaffinity(0))
        if usable < (os.cpu_count() or usable):
            desc += f" ({usable} usable by this process)"
    except (AttributeError, OSError):
        pass
    desc += f", torch threads {torch.get_num_threads()}"
    if torch.cuda.is_available():
        desc += f", GPU {torch.cuda.get_device_name(0)}"
    return desc
