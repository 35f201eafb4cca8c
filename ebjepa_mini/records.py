"""Benchmark records: where they live, how they are named, read and written (``bench/results/README.md``).

``python -m ebjepa_mini.bench`` writes one JSON record per benchmark, preset and configuration;
chapters, the results page and the status page read them with :func:`stored_results`.
"""
from __future__ import annotations

import json
import os
import platform
import re
from pathlib import Path, PurePosixPath

import torch

__all__ = ["glue", "glue_across_seeds", "results_dir", "stored_results", "chapter_wall_s", "record_name", "write_json", "hardware",
           "across_seeds", "repo_relative", "without_machine_paths", "machine_paths"]


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
    return {p.stem: json.loads(p.read_text()) for p in sorted(base.glob(pattern))}


def chapter_wall_s(chapter: str) -> dict[str, float]:
    """Seconds ``chapter`` (e.g. ``"05_world_models"``) took to execute, by preset, from the stored
    ``bench chapters`` records (``chapters_<preset>.json``); presets without a record are left out."""
    out = {}
    for preset in ("ci", "cpu"):
        rec = stored_results(f"chapters_{preset}.json").get(f"chapters_{preset}", {})
        if chapter in rec.get("wall_s_by_chapter", {}):
            out[preset] = float(rec["wall_s_by_chapter"][chapter])
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


#: an absolute POSIX file path inside a text (at least two parts: ``/tmp/x.pt``, ``/work/shared/data``);
#: not the ``/`` of a ratio (``px/step``, ``13/14``) nor the ``//`` of a URL
_ABS_PATH = re.compile(r"(?<![\w.~/:+-])/[\w.~+-]+(?:/[\w.~+-]+)+/?")
#: the repository's top-level folders: an absolute path through one of them is written from there on
REPO_DIRS = ("ebjepa_mini", "bench", "chapters", "book", "tests", "tools", "data_scripts")


def repo_relative(path: str) -> str:
    """An absolute path as a record may name it: relative to this repository when it lies inside it
    (``/any/clone/ebjepa_mini/assets/x.pt`` -> ``ebjepa_mini/assets/x.pt``, ``/home/u/repo/bench/results/w.json``
    -> ``bench/results/w.json``), else its file name alone (``/tmp/exp/models/no-std.pt`` -> ``no-std.pt``).
    A relative path passes unchanged."""
    p = PurePosixPath(path)
    if not p.is_absolute():
        return path
    root = PurePosixPath(Path(__file__).resolve().parents[1].as_posix())
    if p != root and root in p.parents:
        return p.relative_to(root).as_posix()
    dirs = p.parts[1:-1]
    hits = [i for i, part in enumerate(dirs) if part in REPO_DIRS]
    return "/".join(p.parts[1:][hits[-1]:]) if hits else p.name


def without_machine_paths(obj):
    """``obj`` (a record, a model card, a string) with every absolute file path in its strings and keys
    written by :func:`repo_relative`: a stored record names no folder of the machine that made it. A copy."""
    if isinstance(obj, str):
        return _ABS_PATH.sub(lambda m: repo_relative(m.group()), obj)
    if isinstance(obj, dict):
        return {without_machine_paths(k): without_machine_paths(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [without_machine_paths(v) for v in obj]
    return obj


def machine_paths(obj) -> list[str]:
    """The absolute file paths in the strings and keys of ``obj`` (empty for a storable record)."""
    if isinstance(obj, str):
        return _ABS_PATH.findall(obj)
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in machine_paths(k) + machine_paths(v)]
    if isinstance(obj, (list, tuple)):
        return [p for v in obj for p in machine_paths(v)]
    return []


def write_json(path: str | os.PathLike, obj) -> Path:
    """Write ``obj`` as indented JSON atomically (a temporary file in the same folder, then a rename),
    so a reader never sees half a record. Absolute paths in its strings are written repository-relative
    or as file names (:func:`without_machine_paths`): a record names no folder of the machine that made it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(without_machine_paths(obj), indent=1) + "\n")
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
