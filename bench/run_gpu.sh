#!/usr/bin/env bash
# The GPU benchmarks in ONE bounded run (a lent GPU machine gives a session ~15 minutes in all).
#
#   OUT=/some/dir BUDGET=540 bash bench/run_gpu.sh      # from the repository root, on the GPU machine
#
# In parallel on the one GPU:
#   * bench image --preset gpu (chapter 3: ResNet-18, LARS, five configurations);
#   * bench world --preset gpu (chapters 5-6: train, then plan 100 episodes) and, if more than
#     MIN_PAPER seconds of BUDGET are left, bench world --preset paper.
# Every job is cut at BUDGET seconds after the start, so the copy to $OUT always happens.
# Copied to $OUT (at most 8 files): the records (bench/results/*_gpu.json, world_paper.json), the
# trained models with their cards, and one log (GPU, package versions, every job's output).
# Needs: python3 with torch; gymnasium is installed from .whl/ if missing (the machine has no network);
# the CIFAR-10 files in $EBJEPA_DATA (default .devdata/).
set -u
: "${OUT:?set OUT to the folder the results are copied to}"
BUDGET=${BUDGET:-540}
MIN_PAPER=${MIN_PAPER:-240}
t0=$(date +%s)
left() { echo $((BUDGET - ($(date +%s) - t0))); }
logs=$(mktemp -d)
export PYTHONUNBUFFERED=1 EBJEPA_DATA=${EBJEPA_DATA:-$PWD/.devdata} EBJEPA_CACHE=$logs/cache
if ! python3 -c "import gymnasium" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
{
  date -u; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import torch, torchvision, gymnasium, numpy; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'gymnasium', gymnasium.__version__, 'numpy', numpy.__version__, 'cuda', torch.cuda.is_available())"
} > "$logs/0_env.log" 2>&1
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv,noheader -l 20 > "$logs/9_gpu_use.log" 2>&1 &
smi=$!

timeout -k 5 "$(left)" python3 -m ebjepa_mini.bench image --preset gpu --save > "$logs/1_image_gpu.log" 2>&1 &
image=$!
(
  timeout -k 5 "$(left)" python3 -m ebjepa_mini.bench world --preset gpu --save \
    --save-model ebjepa_mini/assets/world_model_gpu.pt > "$logs/2_world_gpu.log" 2>&1
  echo "exit $? at $(( $(date +%s) - t0 )) s" >> "$logs/2_world_gpu.log"
  if [ "$(left)" -gt "$MIN_PAPER" ]; then
    timeout -k 5 "$(left)" python3 -m ebjepa_mini.bench world --preset paper --out bench/results/world_paper.json \
      --save-model ebjepa_mini/assets/world_model_paper.pt > "$logs/3_world_paper.log" 2>&1
    echo "exit $? at $(( $(date +%s) - t0 )) s" >> "$logs/3_world_paper.log"
  fi
) &
world=$!
wait "$image"; echo "exit $? at $(( $(date +%s) - t0 )) s" >> "$logs/1_image_gpu.log"
wait "$world"
kill "$smi" 2>/dev/null
for f in bench/results/image_gpu.json bench/results/world_gpu.json bench/results/world_paper.json \
         ebjepa_mini/assets/world_model_gpu.pt ebjepa_mini/assets/world_model_gpu.json \
         ebjepa_mini/assets/world_model_paper.pt ebjepa_mini/assets/world_model_paper.json; do
  [ -f "$f" ] && cp "$f" "$OUT/"
done
for f in "$logs"/*.log; do echo "=== $(basename "$f")"; cat "$f"; done > "$OUT/gpu_run.log"
tail -n 4 "$logs"/[123]_*.log
echo "done in $(( $(date +%s) - t0 )) s"
