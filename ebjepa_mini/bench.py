"""Benchmarks that print the figures the book quotes: ``python -m ebjepa_mini.bench NAME --preset P``.

Each benchmark prints progress, then, as its LAST line, one JSON object with the numbers;
``--out FILE`` (default ``bench/results/NAME_PRESET.json`` with ``--save``) also writes a record
with the preset, hardware, date and command, which the book's results page renders.

Benchmarks:
    collapse   chapter 2: the four regulariser settings of the Collapse Lab (rank, verdict,
               linear probe, steps/s).
    image      chapter 3: VICReg vs SIGReg on CIFAR-10 plus the random-init encoder and two
               collapsing settings (linear probe top-1, effective rank, steps/s).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from .presets import PRESET_NAMES, get_preset

BENCHMARKS = ("collapse", "image")


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
    desc = f"{cpu}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}"
    if torch.cuda.is_available():
        desc += f", GPU {torch.cuda.get_device_name(0)}"
    return desc


def bench_collapse(preset: str, seed: int = 0) -> dict:
    """Run chapter 2's four settings under ``preset``; return the summary dict."""
    from .collapse import CollapseExperiment

    t0 = time.perf_counter()
    exp = CollapseExperiment(preset, seed=seed)
    runs = exp.compare(probe=True)
    total_steps = sum(r.steps for r in runs.values())
    train_s = sum(r.seconds for r in runs.values())
    records = []
    for label, r in runs.items():
        records.append({"name": label, "effective_rank": round(r.history["effective_rank"][-1], 3),
                        "effective_rank_centered": round(r.history["effective_rank_centered"][-1], 3),
                        "verdict": r.report.verdict, "mean_std": round(r.report.mean_std, 5),
                        "probe_acc": round(r.probe_acc, 4), "steps": r.steps,
                        "steps_per_s": round(r.steps / r.seconds, 2)})
        print(f"  {label:9s} {records[-1]}", file=sys.stderr, flush=True)
    return {
        "benchmark": "collapse", "preset": exp.preset.name, "data": exp.data_source,
        "embed_dim": exp.cfg.embed_dim, "steps_per_run": exp.cfg.steps,
        "steps_per_s": round(total_steps / train_s, 2),
        "effective_rank": {r["name"]: r["effective_rank"] for r in records},
        "verdict": {r["name"]: r["verdict"] for r in records},
        "probe_acc": {r["name"]: r["probe_acc"] for r in records},
        "results": records, "wall_s": round(time.perf_counter() - t0, 1),
    }


def bench_image(preset: str, seed: int = 0) -> dict:
    """Run chapter 3's five configurations under ``preset``; return the summary dict."""
    from .image import BENCH_CONFIGS, ImageExperiment

    t0 = time.perf_counter()
    exp = ImageExperiment(preset, seed=seed)
    print(f"  data: {exp.data_source}, {len(exp.images)} train / {len(exp.test_images)} test images, "
          f"device {exp.device}", file=sys.stderr, flush=True)
    records = []

    def log(run):
        records.append(run.summary())
        print(f"  {records[-1]}", file=sys.stderr, flush=True)

    exp.compare(BENCH_CONFIGS, log=log)
    steps = sum(r["steps"] for r in records)
    train_s = sum(r["train_s"] for r in records)
    return {
        "benchmark": "image", "preset": exp.preset.name, "data": exp.data_source,
        "n_train": len(exp.images), "n_test": len(exp.test_images), "settings": asdict(exp.cfg),
        "steps_per_s": round(steps / train_s, 3) if train_s > 0 else None,
        "probe_acc": {r["name"]: r["probe_acc"] for r in records},
        "effective_rank": {r["name"]: r["effective_rank"] for r in records},
        "results": records, "wall_s": round(time.perf_counter() - t0, 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ebjepa_mini.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmark", choices=BENCHMARKS)
    parser.add_argument("--preset", default=None, help=f"one of {', '.join(PRESET_NAMES)} "
                        "(default: EBJEPA_PRESET or the device)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--save", action="store_true", help="write bench/results/NAME_PRESET.json")
    parser.add_argument("--out", default=None, help="write the result record to this JSON file")
    args = parser.parse_args(argv)
    preset = get_preset(args.preset).name       # validates the name before any compute
    if args.threads:
        torch.set_num_threads(args.threads)
    summary = {"collapse": bench_collapse, "image": bench_image}[args.benchmark](preset, seed=args.seed)
    record = {"hardware": hardware(), "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              "command": "python -m ebjepa_mini.bench " + " ".join(argv if argv is not None else sys.argv[1:]),
              "torch": torch.__version__, **summary}
    out = args.out or (f"bench/results/{args.benchmark}_{preset}.json" if args.save else None)
    if out:
        path = Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(record, indent=1) + "\n")
        os.replace(tmp, path)
        print(f"wrote {path}", file=sys.stderr)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
