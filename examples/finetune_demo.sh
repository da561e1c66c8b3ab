#!/usr/bin/env bash
# End-to-end fine-tuning example on CPU in a few minutes:
#   1. spatial QAs from the demo reaching episodes (rgpt-make-qa), 20 % of the frames held out as a bench file;
#   2. a tiny random SpatialRGPT checkpoint in the reference layout (stands in for the published 8B model);
#   3. the untrained model scored on the held-out questions (rgpt-bench --backend spatialrgpt);
#   4. fine-tuning (rgpt-train, stage sft) and the fine-tuned checkpoint scored the same way.
# Usage: examples/finetune_demo.sh [OUT_DIR]   (PYTHON=... to pick the interpreter; run from the repo root)
set -euo pipefail
OUT=${1:-/tmp/rgpt_finetune_demo}
PY=${PYTHON:-python}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}   # the tiny model runs fastest single-threaded
rm -rf "$OUT" && mkdir -p "$OUT"

echo "== 1. QAs from the demo episodes"
$PY -m rgpt_ros.cli.make_qa "$OUT/qa" --episode straight --episode pause_retreat --episode-frames 40 \
    --episode-stride 2 --eval-fraction 0.2 --min-gap 0.02 --seed 0 --no-progress

echo "== 2. tiny model"
$PY -c "from rgpt_ros.model.testing import write_tiny_checkpoint; write_tiny_checkpoint('$OUT/tiny')"

echo "== 3. before fine-tuning"
$PY -m rgpt_ros.cli.bench "$OUT/qa/eval.json" --backend spatialrgpt --checkpoint "$OUT/tiny" \
    --out "$OUT/pred_before.jsonl" --limit 48 --no-progress | tee "$OUT/score_before.txt"

echo "== 4. fine-tune and score again"
$PY -m rgpt_ros.cli.train --model "$OUT/tiny" --data "$OUT/qa" --out "$OUT/run" --stage sft \
    --lr 1e-2 --max-steps 80 --batch-size 8 --warmup-steps 4 --save-every 40 --no-progress
$PY -m rgpt_ros.cli.bench "$OUT/qa/eval.json" --backend spatialrgpt --checkpoint "$OUT/run/final" \
    --out "$OUT/pred_after.jsonl" --limit 48 --no-progress | tee "$OUT/score_after.txt"

echo "== done: loss curve $OUT/run/loss.png, log $OUT/run/train_log.jsonl, checkpoint $OUT/run/final"
