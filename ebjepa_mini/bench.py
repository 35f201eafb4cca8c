"""Benchmarks that print the figures the book quotes: ``python -m ebjepa_mini.bench NAME --preset P``.

Each benchmark prints progress, then, as its LAST line, one JSON object with the numbers;
``--out FILE`` (default ``bench/results/NAME_PRESET.json`` with ``--save``) also writes a record
with the preset, hardware, date and command, which the book's results page renders.

Benchmarks:
    collapse   chapter 2: the four regulariser settings of the Collapse Lab (rank, verdict,
               linear probe, steps/s).
    image      chapter 3: VICReg vs SIGReg on CIFAR-10 plus the random-init encoder and two
               collapsing settings (linear probe top-1, effective rank, steps/s).
    world      chapters 5-6: train (or ``--checkpoint PATH`` load) a Two Rooms world model, then plan
               ``preset.plan.episodes`` random-wall episodes (success rate, final distance);
               ``--planner``, ``--cost`` pick the planner; ``--ablation TERM`` zeroes one term of
               eq. 13 (variance, covariance, similarity, idm); ``--save-model PATH`` keeps the trained model;
               ``--oracle`` plans with the true physics instead of the model's predictor, scored on
               the true positions (``--oracle`` / ``--oracle positions``, no model) or by the
               model's encoder (``--oracle encoder``: a perfect predictor).
    video      chapter 4: video JEPAs on generated Moving MNIST trained with K = 1 and K = 4 rollout
               steps, plus the untrained encoder (detection AP per prediction horizon, mAP).
    chapters   the book itself: execute every chapter notebook from scratch under ``preset`` (in a
               fresh kernel, as the book build does) and record its wall time and whether it
               succeeded; the book's execution-status page renders these records.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from .presets import COSTS, PLANNERS, PRESET_NAMES, get_preset, parse_overrides
from .records import hardware, record_name, without_machine_paths, write_json

BENCHMARKS = ("collapse", "image", "video", "world", "chapters")


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
    exp.reset()                         # the baseline every run started from: the untrained encoder
    records.insert(0, {"name": "random_init", "effective_rank": round(exp.history["effective_rank"][-1], 3),
                       "effective_rank_centered": round(exp.history["effective_rank_centered"][-1], 3),
                       "verdict": exp.report().verdict, "mean_std": round(exp.history["mean_std"][-1], 5),
                       "probe_acc": round(exp.probe(), 4), "steps": 0, "steps_per_s": None})
    return {
        "benchmark": "collapse", "preset": exp.preset.name, "data": exp.data_source,
        "embed_dim": exp.cfg.embed_dim, "steps_per_run": exp.cfg.steps,
        "steps_per_s": round(total_steps / train_s, 2),
        "effective_rank": {r["name"]: r["effective_rank"] for r in records},
        "verdict": {r["name"]: r["verdict"] for r in records},
        "probe_acc": {r["name"]: r["probe_acc"] for r in records},
        "results": records, "wall_s": round(time.perf_counter() - t0, 1),
    }


def bench_image(preset: str, seed: int = 0, commit: str | None = None) -> dict:
    """Run chapter 3's five configurations under ``preset``; return the summary dict. ``commit``: the
    command line, given to commit every trained run as a train-or-load asset (``ImageExperiment.commit``)."""
    from .image import BENCH_CONFIGS, ImageExperiment

    t0 = time.perf_counter()
    exp = ImageExperiment(preset, seed=seed)
    print(f"  data: {exp.data_source}, {len(exp.images)} train / {len(exp.test_images)} test images, "
          f"device {exp.device}", file=sys.stderr, flush=True)
    records = []

    def log(run):
        records.append(run.summary())
        print(f"  {records[-1]}", file=sys.stderr, flush=True)
        if commit and run.steps:
            print(f"  committed {exp.commit(run, commit).name}", file=sys.stderr, flush=True)

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


#: how a world record's file and run names mark a true-physics yardstick (``--oracle``)
ORACLE_TAGS = {"positions": "oracle", "encoder": "oracle-encoder"}
#: how a world record's file and run names mark a removed eq. 13 term (``--ablation``): the short tags
#: of the stored records (``world_no-sim_cpu.json``), which are record names, not weight names
ABLATION_TAGS = {"variance": "no-std", "covariance": "no-cov", "similarity": "no-sim", "idm": "no-idm"}


def bench_world(preset: str, seed: int = 0, checkpoint: str | None = None, planner: str = "mppi",
                cost: str = "cumulative", ablation: str | None = None, save_model: str | None = None,
                episodes: int | None = None, oracle: str | None = None, max_norm: float | None = None,
                world_overrides: dict | None = None, plan_overrides: dict | None = None,
                record_path: str | None = None) -> dict:
    """Train (or load) a world model under ``preset`` and evaluate a planner on seeded random-wall tasks.

    ``save_model``: also write the trained model there, with a JSON card beside it (what made it) that
    points to ``record_path``, the record holding its evaluation.

    ``oracle`` (see :func:`~ebjepa_mini.planning.episodes.evaluate`): the planner simulates its samples with
    the true physics and scores the true positions (``"positions"``: no model is trained or loaded)
    or the model's encoder on them (``"encoder"``: the model with a perfect predictor).
    """
    from dataclasses import replace

    from .data.two_rooms import EVAL_SEED, sample_tasks
    from .planning import evaluate, world_diagnostics
    from .world import file_sha256, load_world_model, save_world_model, train_world_model

    p = get_preset(preset)
    if max_norm is not None:                        # plan with a different step cap (the record says which)
        p = replace(p, plan=replace(p.plan, max_norm=float(max_norm)))
    if world_overrides or plan_overrides:           # the record's settings say which
        p = replace(p, world=replace(p.world, **(world_overrides or {})), plan=replace(p.plan, **(plan_overrides or {})))
    p = replace(p, plan=replace(p.plan, planner=planner, cost=cost))     # one planning request, validated here
    device = "cuda" if torch.cuda.is_available() and oracle != "positions" else "cpu"
    t0 = time.perf_counter()
    if oracle == "positions":
        run, train_s, source = None, 0.0, "oracle: true physics, eq. 14 on true normalised positions (no world model)"
    elif checkpoint:
        run = load_world_model(checkpoint, device=device)
        train_s, source = run.train_s, f"loaded {checkpoint} (sha256 {file_sha256(checkpoint)[:16]})"
    else:
        weights = p.world.weights if ablation is None else replace(p.world.weights, **{ablation: 0.0})
        print(f"  training: {p.world}", file=sys.stderr, flush=True)
        run = train_world_model(p.world, weights, seed=seed, device=device)
        train_s, source = run.train_s, "trained"
        run.metrics.update(hardware=hardware(), preset=p.name,
                           command=without_machine_paths("python -m ebjepa_mini.bench " + " ".join(sys.argv[1:])))
        if save_model:
            path = save_world_model(run, save_model)
            print(f"  wrote {path} (sha256 {file_sha256(path)})", file=sys.stderr, flush=True)
    if oracle == "encoder":
        source = f"oracle: true physics, eq. 14 scored by the encoder of the model ({source})"
    n = episodes or p.plan.episodes
    fixed = p.world.fixed_wall if run is None else run.settings.fixed_wall
    tasks = sample_tasks(n, seed=EVAL_SEED + seed, fixed_wall=fixed)   # evaluation tasks, disjoint from training seeds
    res = evaluate(None if run is None else run.model, tasks, p.plan, seed=seed, oracle=oracle, device=device)
    summary = res.summary()    # planner, cost, episodes, success_rate, mean_final_distance, failures, plan time
    diag = {} if oracle else world_diagnostics(run.model, tasks, p.plan, device, fixed_wall=fixed)
    hist = {} if run is None else run.history
    final = {k: round(float(np.mean(v[-50:])), 5) for k, v in hist.items() if k != "step" and v}
    if save_model and not checkpoint:      # a JSON card beside the model: what made it; its record says how well it plans
        card = {"file": Path(save_model).name, "sha256": file_sha256(save_model),
                "size_bytes": Path(save_model).stat().st_size, **run.metrics,
                "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"), "torch": torch.__version__,
                "settings": asdict(run.settings), "weights": asdict(run.weights), "train_s": round(train_s, 1),
                "final_losses": final, "record": None if record_path is None else str(record_path)}
        write_json(Path(save_model).with_suffix(".json"), card)
    trained_by = None if run is None else {k: run.metrics.get(k) for k in ("command", "hardware") if run.metrics.get(k)}
    return {"benchmark": "world", "preset": p.name, "device": device, "model": source, "model_trained_by": trained_by or None,
            "ablation": ablation or "none",
            "world_settings": None if run is None else asdict(run.settings), "plan_settings": asdict(p.plan),
            "final_losses": final, **summary, "tasks": _tasks_call(n, seed, fixed), "train_wall_s": round(train_s, 1),
            "results": [{"name": f"{planner}-{cost}" + (f"-{ABLATION_TAGS[ablation]}" if ablation else "")
                                 + (f"-{ORACLE_TAGS[oracle]}" if oracle else ""),
                         "success_rate": summary["success_rate"],
                         "mean_final_distance": summary["mean_final_distance"],
                         "train_s": round(train_s, 1), "plan_s": summary["plan_wall_s"], **diag}],
            "wall_s": round(time.perf_counter() - t0, 1)}


def _tasks_call(n: int, seed: int, fixed_wall: bool) -> str:
    """How the evaluation tasks were drawn, as the call that draws them again (stored in the record)."""
    from .data.two_rooms import EVAL_SEED
    return f"sample_tasks({n}, seed={EVAL_SEED + seed}" + (", fixed_wall=True)" if fixed_wall else ")")


def bench_video(preset: str, seed: int = 0, commit: str | None = None) -> dict:
    """Run chapter 4's comparison under ``preset``: the untrained encoder, then K = 1 and K = 4 (the
    preset's ``video.rollout_steps``); return the summary dict (AP per horizon, mAP, wall time).
    ``commit``: the command line, given to commit every run as a train-or-load asset (``VideoExperiment.commit``)."""
    from .video import VideoExperiment

    t0 = time.perf_counter()
    exp = VideoExperiment(preset, seed=seed)
    print(f"  {exp.data}, device {exp.device}", file=sys.stderr, flush=True)
    records = []
    for k in (0, *exp.cfg.rollout_steps):
        run = exp.train(k, progress=False)
        records.append(run.summary())
        print(f"  {run}", file=sys.stderr, flush=True)
        if commit:
            print(f"  committed {exp.commit(run, commit).name}", file=sys.stderr, flush=True)
    base = records[0]
    trained = records[1:]
    steps = sum(r["steps"] for r in trained)
    train_s = sum(r["train_s"] for r in trained)
    return {
        "benchmark": "video", "preset": exp.preset.name, "data": exp.data_source,
        "n_train": len(exp.data.train), "n_val": len(exp.data.val), "settings": asdict(exp.cfg),
        "ap_by_horizon": {r["name"]: r["ap_by_horizon"] for r in trained},
        "map": {r["name"]: r["map"] for r in trained},
        "untrained": {"ap_by_horizon": base["ap_by_horizon"], "map": base["map"], "ap_gt": base["ap_gt"]},
        "ap_gt": {r["name"]: r["ap_gt"] for r in records},
        "steps_per_s": round(steps / train_s, 3) if train_s > 0 else None,
        "results": records, "wall_s": round(time.perf_counter() - t0, 1),
    }


def bench_chapters(preset: str, seed: int = 0, chapters_dir: str | os.PathLike = "chapters",
                   timeout: int = 1800) -> dict:
    """Execute every ``chapters/NN_*.ipynb`` under ``preset`` in a fresh kernel; return the timings.

    The kernel inherits ``EBJEPA_PRESET=preset``; ``seed`` is unused (the chapters fix their own).
    A failing chapter is recorded with its error and the run goes on to the next one.
    """
    import nbformat
    from nbclient import NotebookClient

    folder = Path(chapters_dir)
    books = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not books:
        raise FileNotFoundError(f"no chapter notebooks (NN_*.ipynb) in {folder.resolve()}")
    old = os.environ.get("EBJEPA_PRESET")
    os.environ["EBJEPA_PRESET"] = preset
    t0 = time.perf_counter()
    records = []
    try:
        for nb_path in books:
            nb = nbformat.read(nb_path, as_version=4)
            start = time.perf_counter()
            error = None
            try:
                NotebookClient(nb, timeout=timeout, kernel_name="python3",
                               resources={"metadata": {"path": str(folder)}}).execute()
            except Exception as exc:  # noqa: BLE001 - recorded, the next chapter still runs
                error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else ''}"
            records.append({"name": nb_path.stem, "wall_s": round(time.perf_counter() - start, 1),
                            "ok": error is None, "error": error})
            print(f"  {records[-1]}", file=sys.stderr, flush=True)
    finally:
        if old is None:
            os.environ.pop("EBJEPA_PRESET", None)
        else:
            os.environ["EBJEPA_PRESET"] = old
    return {"benchmark": "chapters", "preset": preset,
            "wall_s_by_chapter": {r["name"]: r["wall_s"] for r in records},
            "ok": all(r["ok"] for r in records), "results": records,
            "wall_s": round(time.perf_counter() - t0, 1)}


def main(argv=None) -> int:
    from .planning import ORACLES

    parser = argparse.ArgumentParser(prog="python -m ebjepa_mini.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("benchmark", choices=BENCHMARKS)
    parser.add_argument("--preset", default=None, help=f"one of {', '.join(PRESET_NAMES)} "
                        "(default: EBJEPA_PRESET or the device)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the run; a record of seed S > 0 is saved as "
                        "NAME_PRESET-seedS.json beside the seed-0 record (chapters read the spread)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--save", action="store_true", help="write bench/results/NAME_PRESET.json")
    parser.add_argument("--out", default=None, help="write the result record to this JSON file")
    world = parser.add_argument_group("world benchmark")
    world.add_argument("--checkpoint", default=None, help="load this world model instead of training")
    world.add_argument("--planner", default="mppi", choices=PLANNERS)
    world.add_argument("--cost", default="cumulative", choices=COSTS)
    world.add_argument("--ablation", default=None, choices=tuple(ABLATION_TAGS),
                       help="train with this eq. 13 coefficient set to 0")
    world.add_argument("--episodes", type=int, default=None, help="override preset.plan.episodes")
    world.add_argument("--max-norm", type=float, default=None,
                       help="override preset.plan.max_norm, the longest planned step (px)")
    world.add_argument("--save-model", default=None, help="write the trained world model here")
    world.add_argument("--oracle", nargs="?", const="positions", default=None, choices=ORACLES,
                       help="plan with the true physics instead of the predictor, scored on the true positions "
                            "(no model; the default) or by the model's encoder ('encoder': a perfect predictor)")
    world.add_argument("--world-set", action="append", metavar="FIELD=VALUE",
                       help="override a WorldSettings field, e.g. latent_dim=128, fixed_wall=true or weights.idm=0 "
                            "(repeatable)")
    world.add_argument("--plan-set", action="append", metavar="FIELD=VALUE",
                       help="override a PlanSettings field, e.g. num_iters=20 (repeatable)")
    world.add_argument("--reference-planner", action="store_true",
                       help="plan as the reference code does (presets.REFERENCE_PLANNER's τ, clipping, warm start, "
                            "executed elite, no σ floor), with the preset's sizes")
    world.add_argument("--paper-planner", action="store_true",
                       help="plan with paper Algorithm 1 as written (presets.PAPER_PLANNER: σ = 2 fixed, τ = 0.005, "
                            "one action per plan, no warm start, no step cap), with the preset's sizes")
    parser.add_argument("--commit-runs", action="store_true",
                        help="image, video: also write every trained run to ebjepa_mini/assets/runs/ with its card, "
                             "where the chapters load it instead of training (train-or-load)")
    parser.add_argument("--tag", default=None, help="a variant's name, appended to the record's file name: NAME_PRESET-TAG.json")
    args = parser.parse_args(argv)
    preset = get_preset(args.preset).name       # validates the name before any compute
    from .presets import PAPER_PLANNER, REFERENCE_PLANNER
    if args.reference_planner and args.paper_planner:
        parser.error("--reference-planner and --paper-planner exclude each other: pick one")
    try:
        world_over = parse_overrides(args.world_set, get_preset(preset).world, "--world-set")
        plan_over = parse_overrides(args.plan_set, get_preset(preset).plan, "--plan-set")
        if args.reference_planner:
            plan_over = {**{k: getattr(REFERENCE_PLANNER, k) for k in ("temperature", "max_norm", "warm_start", "execute",
                                                                       "min_std")}, **plan_over}
        if args.paper_planner:
            plan_over = {**{k: getattr(PAPER_PLANNER, k) for k in ("noise_std", "temperature", "update_std", "min_std",
                                                                   "replan_every", "warm_start", "max_norm", "execute")},
                         **plan_over}
        from dataclasses import replace as _replace
        _replace(get_preset(preset).world, **world_over), _replace(get_preset(preset).plan, **plan_over)   # validate now
    except (ValueError, TypeError) as err:
        parser.error(str(err))
    if args.tag is not None and not args.tag.replace("-", "").replace(".", "").isalnum():
        parser.error(f"--tag must be letters, digits, '-' and '.', got {args.tag!r}")
    if args.checkpoint and not Path(args.checkpoint).exists():
        parser.error(f"--checkpoint {args.checkpoint}: file not found")
    if args.episodes is not None and args.episodes < 1:
        parser.error(f"--episodes must be >= 1, got {args.episodes}")
    if args.max_norm is not None and not 0 < args.max_norm <= 10:
        parser.error(f"--max-norm must be in (0, 10] px, got {args.max_norm}")
    if torch.cuda.is_available():
        torch.set_float32_matmul_precision("high")    # TF32 matrix products on a GPU (CPU runs are unchanged)
    if args.threads:
        torch.set_num_threads(args.threads)
        os.environ["EBJEPA_THREADS"] = str(args.threads)   # chapter kernels read it
    variants = ()
    if args.benchmark == "world":   # one file per configuration
        variants = (args.planner if args.planner != "mppi" else None, args.cost if args.cost != "cumulative" else None,
                    ABLATION_TAGS.get(args.ablation), ORACLE_TAGS.get(args.oracle),
                    f"max-norm-{args.max_norm:g}" if args.max_norm is not None else None)
    if args.commit_runs and args.benchmark not in ("image", "video"):
        parser.error(f"--commit-runs applies to the image and video benchmarks, not {args.benchmark!r}")
    command = "python -m ebjepa_mini.bench " + " ".join(argv if argv is not None else sys.argv[1:])
    out = args.out or (Path("bench", "results", record_name(args.benchmark, preset, variants, args.tag, args.seed))
                       if args.save else None)
    if args.benchmark == "world":
        if args.oracle == "positions" and (args.checkpoint or args.ablation or args.save_model):
            parser.error("--oracle positions uses no world model: drop --checkpoint, --ablation and --save-model")
        summary = bench_world(preset, args.seed, args.checkpoint, args.planner, args.cost, args.ablation,
                              args.save_model, args.episodes, args.oracle, args.max_norm, world_over, plan_over,
                              record_path=out)
    elif args.benchmark in ("image", "video"):
        summary = {"image": bench_image, "video": bench_video}[args.benchmark](
            preset, seed=args.seed, commit=command if args.commit_runs else None)
    else:
        summary = {"collapse": bench_collapse, "chapters": bench_chapters}[args.benchmark](preset, seed=args.seed)
    record = {"hardware": hardware(), "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              "command": command,
              "torch": torch.__version__, **summary}
    if out:
        print(f"wrote {write_json(out, record)}", file=sys.stderr)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
