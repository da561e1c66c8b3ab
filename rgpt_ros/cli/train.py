"""``rgpt-train --model CKPT --data QA_DIR --out RUN``: fine-tune SpatialRGPT on generated spatial QAs.

Stages of the reference recipe (one per run; start each from the previous run's ``final/``)::

    rgpt-train --model base/ --data qa/ --out run1 --stage align --lr 1e-3
    rgpt-train --model run1/final --data qa/ --out run2 --stage sft --lr 2e-5
    rgpt-train --model run2/final --data qa/ --out run3 --stage sft --lora --lr 2e-4

Several GPUs / nodes: ``torchrun --nproc_per_node 8 -m rgpt_ros.cli.train ...`` (see docs/TRAINING.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Optional, Sequence

from rgpt_ros.training.stages import STAGES
from rgpt_ros.training.trainer import TrainConfig, Trainer


def build_parser() -> argparse.ArgumentParser:
    d = TrainConfig.__dataclass_fields__
    p = argparse.ArgumentParser(prog="rgpt-train", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--model", required=True, help="checkpoint folder (reference layout) to start from")
    p.add_argument("--data", required=True, nargs="+", help="rgpt-make-qa folders and/or training JSON files")
    p.add_argument("--out", required=True, help="output folder (checkpoints, final/, logs, loss.png)")
    p.add_argument("--stage", default="sft", choices=sorted(STAGES), help="which parts train (default sft)")
    p.add_argument("--lora", action="store_true", help="LoRA adapters on the LLM (merged on export)")
    p.add_argument("--lora-r", type=int, default=d["lora_r"].default)
    p.add_argument("--lora-alpha", type=int, default=d["lora_alpha"].default)
    p.add_argument("--lora-dropout", type=float, default=d["lora_dropout"].default)
    p.add_argument("--epochs", type=float, default=d["epochs"].default)
    p.add_argument("--max-steps", type=int, default=None, help="optimizer steps (overrides --epochs)")
    p.add_argument("--batch-size", type=int, default=d["batch_size"].default,
                   help="samples per process per micro-batch")
    p.add_argument("--grad-accum", type=int, default=d["grad_accum"].default)
    p.add_argument("--lr", type=float, default=d["lr"].default)
    p.add_argument("--weight-decay", type=float, default=d["weight_decay"].default)
    p.add_argument("--warmup-ratio", type=float, default=d["warmup_ratio"].default)
    p.add_argument("--warmup-steps", type=int, default=None)
    p.add_argument("--max-grad-norm", type=float, default=d["max_grad_norm"].default)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="auto | cuda | cpu")
    p.add_argument("--dtype", default="auto", choices=["auto", "bf16", "fp32"],
                   help="weights of frozen parts (auto: bf16 on CUDA, fp32 on CPU); trainable weights stay fp32")
    p.add_argument("--save-dtype", default="auto", choices=["auto", "bf16", "fp16", "fp32"],
                   help="dtype of exported checkpoints (auto: as --dtype)")
    p.add_argument("--gradient-checkpointing", action="store_true")
    p.add_argument("--pack", action="store_true", help="pack several samples per row (attention stays per sample)")
    p.add_argument("--pack-length", type=int, default=d["pack_length"].default)
    p.add_argument("--max-text-tokens", type=int, default=None, help="cut longer conversations (answers only)")
    p.add_argument("--image-folder", default=None, help="images of reference-format JSON (<filename>.jpg)")
    p.add_argument("--depth-folder", default=None, help="depth images of reference-format JSON (<filename>.png)")
    p.add_argument("--num-workers", type=int, default=0, help="DataLoader worker processes")
    p.add_argument("--log-every", type=int, default=1)
    p.add_argument("--save-every", type=int, default=0, help="checkpoint every N steps (0: only final/)")
    p.add_argument("--save-total-limit", type=int, default=None, help="keep only the newest N checkpoints")
    p.add_argument("--resume", default=None, help="checkpoint folder, or 'auto' for the newest in --out")
    p.add_argument("--stop-at-step", type=int, default=None,
                   help="stop after this step and save a checkpoint (continue later with --resume auto)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--no-plot", action="store_true")
    return p


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(
        model=args.model, data=list(args.data), output_dir=args.out, stage=args.stage, lora=args.lora,
        lora_r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout, epochs=args.epochs,
        max_steps=args.max_steps, batch_size=args.batch_size, grad_accum=args.grad_accum, lr=args.lr,
        weight_decay=args.weight_decay, warmup_ratio=args.warmup_ratio, warmup_steps=args.warmup_steps,
        max_grad_norm=args.max_grad_norm, seed=args.seed, device=args.device, dtype=args.dtype,
        save_dtype=args.save_dtype, gradient_checkpointing=args.gradient_checkpointing, pack=args.pack,
        pack_length=args.pack_length, max_text_tokens=args.max_text_tokens, image_folder=args.image_folder,
        depth_folder=args.depth_folder, num_workers=args.num_workers, log_every=args.log_every,
        save_every=args.save_every, save_total_limit=args.save_total_limit, resume=args.resume,
        progress=not args.no_progress, plot=not args.no_plot)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        trainer = Trainer(config_from_args(args))
        result = trainer.train(stop_at=args.stop_at_step)
    except (FileNotFoundError, ValueError) as exc:  # TrainError, StageError, DatasetError, CheckpointError, ...
        print(f"rgpt-train: error: {exc}", file=sys.stderr)
        return 2
    if trainer.dist.is_main:
        last = result.log[-1] if result.log else {}
        print(json.dumps({"steps": result.step, "final": str(result.final_dir) if result.final_dir else None,
                          "loss": last.get("loss"), "first_loss": result.log[0]["loss"] if result.log else None,
                          "trainable": trainer.trainable_counts}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
