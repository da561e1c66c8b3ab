"""The fine-tuning loop: AdamW, cosine schedule with warm-up, bf16 autocast on CUDA, gradient checkpointing,
gradient accumulation, DDP (``torchrun``), resumable checkpoints in the reference layout, JSONL logs and a loss plot.

Output folder::

    checkpoint-<step>/            reference layout (config.json, llm/, vision_tower/, ...) -- loadable by the engine
    checkpoint-<step>/training_state/   trainable weights (fp32, LoRA unmerged), optimizer, scheduler, progress
    final/                        the last model, reference layout (LoRA merged)
    train_log.jsonl, loss.png, train_config.json
"""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence

import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from torch.utils.data import DataLoader, DistributedSampler, Sampler
from tqdm import tqdm
from transformers import get_cosine_schedule_with_warmup

from rgpt_ros.model.modeling import SpatialRGPTForCausalLM
from rgpt_ros.training.collator import collator_for
from rgpt_ros.training.dataset import SpatialQADataset, load_records
from rgpt_ros.training.forward import TrainingStep, causal_lm, label_token_count
from rgpt_ros.training.lora import LoraSettings, add_lora, export_pretrained
from rgpt_ros.training.stages import apply_stage, stage_components, trainable_parameters

STATE_DIR = "training_state"
LOG_NAME, PLOT_NAME, CONFIG_NAME, FINAL_DIR = "train_log.jsonl", "loss.png", "train_config.json", "final"
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


class TrainError(ValueError):
    """Bad training settings or an unusable checkpoint to resume from."""


@dataclass
class TrainConfig:
    """Everything ``rgpt-train`` exposes (see docs/TRAINING.md for the recipe).

    model: checkpoint folder (reference layout) to start from; data: rgpt-make-qa folders or JSON files;
    stage: align | sft | full; lora: LoRA on the LLM (needs sft/full). batch_size: per process;
    epochs or max_steps (optimizer steps; max_steps wins); warmup_ratio of the steps (or warmup_steps).
    dtype: weights of frozen parts ("auto": bf16 on CUDA, fp32 on CPU); trainable weights are kept in fp32
    and the forward runs under bf16 autocast on CUDA. resume: a checkpoint folder or "auto" (latest in
    output_dir). save_every: steps between checkpoints (0: only the final model); export: write final/.
    """

    model: str
    data: list[str]
    output_dir: str
    stage: str = "sft"
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    epochs: float = 1.0
    max_steps: Optional[int] = None
    batch_size: int = 4
    grad_accum: int = 1
    lr: float = 2e-5
    weight_decay: float = 0.0
    warmup_ratio: float = 0.03
    warmup_steps: Optional[int] = None
    max_grad_norm: float = 1.0
    seed: int = 0
    device: str = "auto"
    dtype: str = "auto"
    gradient_checkpointing: bool = False
    pack: bool = False
    pack_length: int = 4096
    max_text_tokens: Optional[int] = None
    image_folder: Optional[str] = None
    depth_folder: Optional[str] = None
    num_workers: int = 0
    log_every: int = 1
    save_every: int = 0
    save_total_limit: Optional[int] = None
    save_dtype: str = "auto"
    resume: Optional[str] = None
    progress: bool = True
    plot: bool = True
    export: bool = True

    def __post_init__(self) -> None:
        stage_components(self.stage)
        if self.lora and self.stage == "align":
            raise TrainError("LoRA adapts the LLM, which stage 'align' keeps frozen; use stage 'sft' or 'full'")
        for name in ("batch_size", "grad_accum", "log_every"):
            if getattr(self, name) < 1:
                raise TrainError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_steps is not None and self.max_steps < 1:
            raise TrainError(f"max_steps must be >= 1, got {self.max_steps}")
        if self.epochs <= 0 or self.lr <= 0 or not 0 <= self.warmup_ratio < 1:
            raise TrainError(f"bad schedule: epochs={self.epochs}, lr={self.lr}, warmup_ratio={self.warmup_ratio}")
        if self.dtype not in ("auto", "bf16", "fp32"):
            raise TrainError(f"dtype must be auto, bf16 or fp32 (fp16 would need loss scaling), got {self.dtype!r}")
        if self.save_dtype not in ("auto", *_DTYPES):
            raise TrainError(f"save_dtype must be auto, bf16, fp16 or fp32, got {self.save_dtype!r}")
        if not self.data:
            raise TrainError("no training data given")


@dataclass
class TrainResult:
    """What a run did: the step reached, the exported final/ folder (None when stopped early or export is off),
    the log rows (one per logged step) and the output folder."""

    step: int
    final_dir: Optional[Path]
    log: list[dict]
    output_dir: Path


# ---------------------------------------------------------------------------------------------- distributed
@dataclass(frozen=True)
class DistInfo:
    rank: int
    world_size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device_type: str) -> DistInfo:
    """Join the torchrun process group when WORLD_SIZE > 1 (nccl on CUDA, gloo on CPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    return DistInfo(rank, world, local)


def _all_reduce_sum(values: list[float], info: DistInfo, device: torch.device) -> list[float]:
    if info.world_size == 1:
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


class SkipSampler(Sampler[int]):
    """A DistributedSampler epoch with its first ``skip`` indices left out (exact resume mid-epoch)."""

    def __init__(self, base: DistributedSampler, skip: int = 0) -> None:
        self.base, self.skip = base, skip

    def __iter__(self) -> Iterator[int]:
        return itertools.islice(iter(self.base), self.skip, None)

    def __len__(self) -> int:
        return max(0, len(self.base) - self.skip)


# ---------------------------------------------------------------------------------------------- trainer
class Trainer:
    """Runs one training stage. ``Trainer(config).train()``; ``model`` is available after ``setup()``."""

    def __init__(self, config: TrainConfig, model: Optional[SpatialRGPTForCausalLM] = None) -> None:
        """``model``: an already built model on the right device to train instead of loading ``config.model``."""
        self.config = config
        self._given_model = model
        self.out = Path(config.output_dir)
        want_cuda = config.device in ("auto", "cuda") and torch.cuda.is_available()
        if config.device == "cuda" and not torch.cuda.is_available():
            raise TrainError("device 'cuda' requested but CUDA is not available")
        self.dist = init_distributed("cuda" if want_cuda else "cpu")
        if want_cuda:
            self.device = torch.device("cuda", self.dist.local_rank)
            torch.cuda.set_device(self.device)
        else:
            self.device = torch.device(config.device if config.device not in ("auto", "cuda") else "cpu")
        self.model: Optional[SpatialRGPTForCausalLM] = None
        self.step = 0
        self.epoch = 0
        self.batches_in_epoch = 0
        self.log_rows: list[dict] = []
        self._saved_step: Optional[int] = None

    # -------------------------------------------------------------- setup
    @property
    def base_dtype(self) -> torch.dtype:
        if self.config.dtype == "auto":
            return torch.bfloat16 if self.device.type == "cuda" else torch.float32
        return _DTYPES[self.config.dtype]

    @property
    def save_dtype(self) -> Optional[torch.dtype]:
        if self.config.save_dtype == "auto":
            return self.base_dtype
        return _DTYPES[self.config.save_dtype]

    def setup(self) -> None:
        cfg = self.config
        torch.manual_seed(cfg.seed)
        if self._given_model is not None:
            self.model = self._given_model
        else:
            self.model = SpatialRGPTForCausalLM.from_pretrained(cfg.model, device=self.device, dtype=self.base_dtype)
        if cfg.lora:
            add_lora(self.model, LoraSettings(cfg.lora_r, cfg.lora_alpha, cfg.lora_dropout))
        self.trainable_counts = apply_stage(self.model, cfg.stage, lora=cfg.lora)
        for param in trainable_parameters(self.model).values():  # fp32 master weights
            if param.dtype != torch.float32:
                param.data = param.data.float()
        if cfg.gradient_checkpointing:
            kwargs = {"gradient_checkpointing_kwargs": {"use_reentrant": False}}
            causal_lm(self.model.llm).gradient_checkpointing_enable(**kwargs)
            self.model.vision.vision_tower.gradient_checkpointing_enable(**kwargs)
        records = load_records(cfg.data, cfg.image_folder, cfg.depth_folder)
        self.dataset = SpatialQADataset(records, self.model.tokenizer, with_depth=self.model.config.enable_depth,
                                        image_size=self.model.config.image_size, max_text_tokens=cfg.max_text_tokens)
        self.collator = collator_for(self.model, pack=cfg.pack, pack_length=cfg.pack_length)
        self.sampler = DistributedSampler(self.dataset, num_replicas=self.dist.world_size, rank=self.dist.rank,
                                          shuffle=True, seed=cfg.seed, drop_last=self.dist.world_size > 1)
        self.batches_per_epoch = math.ceil(len(self.sampler) / cfg.batch_size)
        if self.batches_per_epoch < cfg.grad_accum:
            raise TrainError(f"an epoch has {self.batches_per_epoch} batch(es) per process, fewer than "
                             f"grad_accum={cfg.grad_accum}")
        self.steps_per_epoch = self.batches_per_epoch // cfg.grad_accum
        self.total_steps = cfg.max_steps or max(1, math.ceil(cfg.epochs * self.steps_per_epoch))
        warmup = cfg.warmup_steps if cfg.warmup_steps is not None else int(round(cfg.warmup_ratio * self.total_steps))
        params = trainable_parameters(self.model)
        if not params:
            raise TrainError(f"stage {cfg.stage!r} leaves nothing to train")
        decay = [p for n, p in params.items() if p.ndim >= 2 and "norm" not in n]
        no_decay = [p for n, p in params.items() if not (p.ndim >= 2 and "norm" not in n)]
        self.optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                            {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr,
                                           betas=(0.9, 0.999), eps=1e-8)
        self.scheduler = get_cosine_schedule_with_warmup(self.optimizer, warmup, self.total_steps)
        self.step_module = TrainingStep(self.model)
        self.wrapped = self.step_module
        if self.dist.world_size > 1:
            from torch.nn.parallel import DistributedDataParallel

            self.wrapped = DistributedDataParallel(
                self.step_module, device_ids=[self.device.index] if self.device.type == "cuda" else None)
        resume = self._resume_folder()
        if resume is not None:
            self.load_state(resume)

    def _resume_folder(self) -> Optional[Path]:
        if not self.config.resume:
            return None
        if self.config.resume == "auto":
            found = latest_checkpoint(self.out)
            return found
        folder = Path(self.config.resume)
        if not (folder / STATE_DIR).is_dir():
            raise TrainError(f"cannot resume from {folder}: no {STATE_DIR}/ inside (not a training checkpoint)")
        return folder

    # -------------------------------------------------------------- data
    def _batches(self) -> Iterator[dict]:
        """Batches from the current (epoch, position) onwards, forever (epochs advance)."""
        while True:
            self.sampler.set_epoch(self.epoch)
            sampler = SkipSampler(self.sampler, self.batches_in_epoch * self.config.batch_size)
            generator = torch.Generator().manual_seed(self.config.seed + self.epoch)
            loader = DataLoader(self.dataset, batch_size=self.config.batch_size, sampler=sampler,
                                collate_fn=self.collator, num_workers=self.config.num_workers, generator=generator,
                                pin_memory=self.device.type == "cuda")
            for batch in loader:
                self.batches_in_epoch += 1
                yield batch
            self.epoch += 1
            self.batches_in_epoch = 0

    # -------------------------------------------------------------- loop
    def train(self, stop_at: Optional[int] = None) -> TrainResult:
        """Train to ``total_steps``; with ``stop_at`` stop after that step, saving a checkpoint to resume from
        (for time-limited jobs)."""
        if not hasattr(self, "optimizer"):
            self.setup()
        cfg = self.config
        if self.dist.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / CONFIG_NAME).write_text(json.dumps(asdict(cfg), indent=2) + "\n")
        self.model.train()
        batches = self._batches()
        bar = tqdm(total=self.total_steps, initial=self.step, desc=f"rgpt-train [{cfg.stage}]", unit="step",
                   disable=not (cfg.progress and self.dist.is_main), file=sys.stderr)
        window: list[float] = []
        started = time.perf_counter()
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        end = self.total_steps if stop_at is None else min(self.total_steps, int(stop_at))
        while self.step < end:
            t0 = time.perf_counter()
            group = [next(batches) for _ in range(cfg.grad_accum)]
            tokens = sum(label_token_count(b) for b in group)
            total_tokens = _all_reduce_sum([float(tokens)], self.dist, self.device)[0]
            if total_tokens == 0:
                raise TrainError("a batch group has no answer tokens to learn (all labels masked)")
            loss_sum = 0.0
            for i, batch in enumerate(group):
                sync = i == len(group) - 1 or self.dist.world_size == 1
                context = self.wrapped.no_sync() if not sync and hasattr(self.wrapped, "no_sync") else _null()
                with context, self._autocast():
                    loss, _n = self.wrapped(batch)
                    # mean over the tokens of the whole group on all processes (DDP averages gradients)
                    scaled = loss * (self.dist.world_size / total_tokens)
                scaled.backward()
                loss_sum += float(loss.detach())
            grad_norm = torch.nn.utils.clip_grad_norm_(list(trainable_parameters(self.model).values()),
                                                       cfg.max_grad_norm)
            used_lr = self.scheduler.get_last_lr()[0]
            self.optimizer.step()
            self.scheduler.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.step += 1
            elapsed = time.perf_counter() - t0
            loss_total = _all_reduce_sum([loss_sum], self.dist, self.device)[0]
            samples = sum(b["num_samples"] for b in group) * self.dist.world_size
            seq_tokens = sum(b["num_tokens"] for b in group) * self.dist.world_size
            mean_loss = loss_total / total_tokens
            window.append(mean_loss)
            bar.update(1)
            bar.set_postfix(loss=f"{mean_loss:.4f}")
            if self.step % cfg.log_every == 0 or self.step == self.total_steps:
                row = {"step": self.step, "epoch": self.epoch, "loss": sum(window) / len(window),
                       "lr": used_lr, "grad_norm": float(grad_norm),
                       "samples_per_s": samples / elapsed, "tokens_per_s": seq_tokens / elapsed,
                       "step_time_s": elapsed, "elapsed_s": time.perf_counter() - started}
                if self.device.type == "cuda":
                    row["peak_memory_gib"] = torch.cuda.max_memory_allocated(self.device) / 1024**3
                window = []
                self._log(row)
            if cfg.save_every and self.step % cfg.save_every == 0 and self.step < self.total_steps:
                self.save_checkpoint(self.out / f"checkpoint-{self.step}")
        bar.close()
        final = None
        stopped_early = self.step < self.total_steps
        if (cfg.save_every or stopped_early) and self._saved_step != self.step:
            self.save_checkpoint(self.out / f"checkpoint-{self.step}")
        if not stopped_early and cfg.export:
            final = self.out / FINAL_DIR
            if self.dist.is_main:
                export_pretrained(self.model, final, self.save_dtype)
        if cfg.plot and self.dist.is_main:
            plot_loss(self.log_rows, self.out / PLOT_NAME)
        self._barrier()
        return TrainResult(self.step, final, self.log_rows, self.out)

    def _autocast(self):
        """bf16 autocast whenever the frozen weights are bf16 (CUDA by default; CPU with dtype="bf16")."""
        if self.base_dtype == torch.bfloat16:
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return _null()

    def _log(self, row: dict) -> None:
        self.log_rows.append(row)
        if self.dist.is_main:
            self.out.mkdir(parents=True, exist_ok=True)
            with open(self.out / LOG_NAME, "a") as handle:
                handle.write(json.dumps(row) + "\n")

    def _barrier(self) -> None:
        if self.dist.world_size > 1:
            dist.barrier()

    # -------------------------------------------------------------- checkpoints
    def save_checkpoint(self, folder: Path) -> Path:
        """Reference-layout model + training state (main process writes; all processes wait)."""
        if self.dist.is_main:
            tmp = folder.with_name(folder.name + ".tmp")
            if tmp.exists():
                shutil.rmtree(tmp)
            export_pretrained(self.model, tmp, self.save_dtype)
            state = tmp / STATE_DIR
            state.mkdir(parents=True, exist_ok=True)
            save_file({k: v.detach().contiguous().cpu() for k, v in trainable_parameters(self.model).items()},
                      str(state / "trainable.safetensors"))
            torch.save({"optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
                        "rng": torch.get_rng_state(),
                        "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else None},
                       state / "optimizer.pt")
            progress = {"step": self.step, "epoch": self.epoch, "batches_in_epoch": self.batches_in_epoch,
                        "total_steps": self.total_steps, "stage": self.config.stage, "lora": self.config.lora,
                        "world_size": self.dist.world_size, "batch_size": self.config.batch_size,
                        "grad_accum": self.config.grad_accum, "log": self.log_rows}
            (state / "progress.json").write_text(json.dumps(progress, indent=1) + "\n")
            if folder.exists():
                shutil.rmtree(folder)
            os.replace(tmp, folder)
            self._rotate()
        self._saved_step = self.step
        self._barrier()
        return folder

    def _rotate(self) -> None:
        limit = self.config.save_total_limit
        if not limit:
            return
        for old in checkpoints(self.out)[:-limit]:
            shutil.rmtree(old, ignore_errors=True)

    def load_state(self, folder: Path) -> None:
        """Restore trainable weights, optimizer, scheduler and data position from a checkpoint."""
        state = folder / STATE_DIR
        progress = json.loads((state / "progress.json").read_text())
        current = {"stage": self.config.stage, "lora": self.config.lora, "batch_size": self.config.batch_size,
                   "grad_accum": self.config.grad_accum, "world_size": self.dist.world_size}
        for key, value in current.items():
            if progress[key] != value:
                raise TrainError(f"cannot resume from {folder}: it was trained with {key}={progress[key]!r}, "
                                 f"this run uses {value!r}")
        params = trainable_parameters(self.model)
        weights = load_file(str(state / "trainable.safetensors"), device=str(self.device))
        if set(weights) != set(params):
            raise TrainError(f"cannot resume from {folder}: trainable parameters differ "
                             f"({len(set(weights) ^ set(params))} names)")
        with torch.no_grad():
            for name, tensor in weights.items():
                params[name].copy_(tensor)
        saved = torch.load(state / "optimizer.pt", map_location=self.device, weights_only=False)
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["rng"].cpu())
        if saved.get("cuda_rng") is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state(saved["cuda_rng"].cpu(), self.device)
        self.step, self.epoch = int(progress["step"]), int(progress["epoch"])
        self.batches_in_epoch = int(progress["batches_in_epoch"])
        self._saved_step = self.step
        self.log_rows = list(progress.get("log", []))


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def checkpoints(out: Path) -> list[Path]:
    """Training checkpoints in ``out``, oldest first."""
    found = [p for p in Path(out).glob("checkpoint-*") if p.is_dir() and (p / STATE_DIR).is_dir()
             and p.name.split("-", 1)[1].isdigit()]
    return sorted(found, key=lambda p: int(p.name.split("-", 1)[1]))


def latest_checkpoint(out: Path) -> Optional[Path]:
    found = checkpoints(out)
    return found[-1] if found else None


def plot_loss(rows: Sequence[dict], path: Path) -> Optional[Path]:
    """Loss (and learning rate) against step as a PNG."""
    if not rows:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, [r["loss"] for r in rows], label="loss", color="tab:blue")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss (answer tokens)")
    ax.grid(alpha=0.3)
    lr_axis = ax.twinx()
    lr_axis.plot(steps, [r["lr"] for r in rows], label="lr", color="tab:orange", alpha=0.6)
    lr_axis.set_ylabel("learning rate")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
