"""What does a small world model's latent keep? One short training per setting, then the layout
read-out (world.layout_probe) and the wall/door push test (planning.wall_push_test), in latent space.

    python bench/world_sweep.py --steps 500 --threads 2 --out bench/results/archive/world-sweep_cpu.json \
        '{}' '{"latent_dim": 128}' '{"latent_dim": 256}' '{"clip_len": 17, "stacks": [16, 32, 32]}' \
        '{"clip_len": 17, "pool": 1, "stacks": [16, 32, 32]}'

Each argument is a JSON object of WorldSettings fields that replace the `cpu` preset's.
"""
import argparse
import datetime
import json
import sys
import time
from dataclasses import replace

import numpy as np
import torch

from ebjepa_mini.records import hardware, write_json
from ebjepa_mini.planning import wall_push_test
from ebjepa_mini.presets import get_preset
from ebjepa_mini.world import layout_probe, train_world_model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("settings", nargs="+", help="JSON objects of WorldSettings overrides")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    base = get_preset("cpu").world
    results = []
    for text in args.settings:
        cfg = json.loads(text)
        if "stacks" in cfg:
            cfg["stacks"] = tuple(cfg["stacks"])
        s = replace(base, **cfg, steps=args.steps)
        t0 = time.perf_counter()
        run = train_world_model(s, progress=False)
        dt = time.perf_counter() - t0
        kept = layout_probe(run.model).kept
        push = wall_push_test(run.model, fixed_wall=s.fixed_wall)
        results.append({"name": json.dumps(cfg, sort_keys=True), "s_per_step": round(dt / args.steps, 3),
                        "kept_dot": round(float(kept[:2].mean()), 3), "kept_wall": round(float(kept[2]), 3),
                        "kept_door": round(float(kept[3]), 3), **{k: round(v, 3) for k, v in push.items()},
                        "pred": round(float(np.mean(run.history["pred"][-50:])), 4)})
        print(json.dumps(results[-1]), flush=True)
    record = {"benchmark": "world-sweep", "preset": "cpu", "hardware": hardware(),
              "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              "command": "python bench/world_sweep.py " + " ".join(argv if argv is not None else sys.argv[1:]),
              "torch": torch.__version__, "steps": args.steps, "results": results}
    write_json(args.out, record)


if __name__ == "__main__":
    main()
