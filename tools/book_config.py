"""Write the Jupyter Book config for a cached build and print its path (used by `make book`).

`_config.yml` executes every chapter on every build (`execute_notebooks: force`); CI builds that
way. For the authors' loop this script writes `_build/book-config/_config.yml`, the same config
with `execute_notebooks: cache` and a jupyter-cache folder keyed by

* the preset the chapters will run under (`EBJEPA_PRESET`, else the package's default), and
* a hash of what the chapters read besides their own cells: the package (`ebjepa_mini/`, its
  committed models included) and the stored records (`bench/results/*.json`).

Jupyter-cache already re-runs a chapter whose code cells changed; the keyed folder makes an edit
to the package or a record re-run every chapter, and switching presets never mixes outputs.
"""
from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ("ebjepa_mini/**/*.py", "ebjepa_mini/assets/*", "bench/results/*.json")


def inputs_hash(root: Path = ROOT) -> str:
    """sha256 (first 12 hex digits) over the names and bytes of every file in ``INPUTS``."""
    h = hashlib.sha256()
    files = sorted({p for pattern in INPUTS for p in root.glob(pattern) if p.is_file()})
    for p in files:
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def preset_name() -> str:
    sys.path.insert(0, str(ROOT))
    from ebjepa_mini.presets import get_preset   # reads EBJEPA_PRESET; default gpu with CUDA, else cpu

    return get_preset().name


def write_config(root: Path = ROOT) -> Path:
    text = (root / "_config.yml").read_text()
    force = "  execute_notebooks: force\n"
    if text.count(force) != 1:
        raise SystemExit("tools/book_config.py: _config.yml must contain exactly one "
                         "'  execute_notebooks: force' line under 'execute:'")
    cache = root / "_build" / "jupyter_cache" / f"{preset_name()}-{inputs_hash(root)}"
    text = text.replace(force, f"  execute_notebooks: cache\n  cache: {cache}\n")
    out = root / "_build" / "book-config" / "_config.yml"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, out)
    return out


if __name__ == "__main__":
    print(write_config())
