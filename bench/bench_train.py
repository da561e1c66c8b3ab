"""Training throughput of rgpt-train: samples/s, tokens/s and peak memory per configuration, as a table.

Runs the real training loop (``rgpt_ros.training.trainer.Trainer``: data loading, collation, vision + LLM
forward/backward, AdamW) on QAs generated from synthetic scenes, with randomly initialised models of the
chosen shapes. On CUDA (bf16 autocast, fp32 trainable weights) the default configuration is
``real-small``: the real SigLIP so400m tower and Llama-3-8B layer shapes with 4 decoder layers; on CPU it is
``tiny`` and ``small``. Medians over the measured steps (the first ``--warmup`` steps are dropped).

    python bench/bench_train.py                       # device default configs
    python bench/bench_train.py --configs real-small,8b --modes lora --batch-size 4
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from transformers import LlamaConfig, SiglipVisionConfig

from rgpt_ros.model.configuration import SpatialRGPTConfig
from rgpt_ros.model.modeling import SpatialRGPTForCausalLM
from rgpt_ros.model.testing import full_size_config, tiny_config, tiny_tokenizer
from rgpt_ros.training.make_qa import MakeQAConfig, make_qa
from rgpt_ros.training.sources import synthetic_frames
from rgpt_ros.training.trainer import TrainConfig, Trainer

SIGLIP_SO400M = dict(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16,
                     image_size=384, patch_size=14, layer_norm_eps=1e-6)
LLAMA3_LAYER = dict(hidden_size=4096, intermediate_size=14336, num_attention_heads=32, num_key_value_heads=8,
                    rms_norm_eps=1e-5, rope_theta=500000.0, max_position_embeddings=8192, tie_word_embeddings=False)


def model_config(name: str, vocab: int) -> SpatialRGPTConfig:
    """tiny (tests) | small (CPU-sized) | real-small (real vision tower + 4 real Llama-3-8B layers) | 8b (full)."""
    if name == "tiny":
        return tiny_config(vocab)
    if name == "small":
        vision = SiglipVisionConfig(hidden_size=256, intermediate_size=1024, num_hidden_layers=4, num_attention_heads=4,
                                    image_size=384, patch_size=14)
        llm = LlamaConfig(vocab_size=vocab, hidden_size=512, intermediate_size=1536, num_hidden_layers=4,
                          num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=2048)
        return SpatialRGPTConfig.from_components(llm, vision)
    if name == "real-small":
        llm = LlamaConfig(vocab_size=128259, num_hidden_layers=4, **LLAMA3_LAYER)
        return SpatialRGPTConfig.from_components(llm, SiglipVisionConfig(**SIGLIP_SO400M))
    if name == "8b":
        return full_size_config()
    raise SystemExit(f"unknown config {name!r}; choose tiny, small, real-small, 8b")


def build_model(name: str, device: torch.device, dtype: torch.dtype) -> SpatialRGPTForCausalLM:
    tokenizer = tiny_tokenizer()  # real BPE tokenizer with the Llama-3 specials; ids stay below every vocab size
    config = model_config(name, max(len(tokenizer), 512) if name in ("tiny", "small") else len(tokenizer))
    config.llm.bos_token_id = tokenizer.bos_token_id
    config.llm.eos_token_id = tokenizer.convert_tokens_to_ids("<|eot_id|>")
    config.llm.pad_token_id = tokenizer.pad_token_id
    return SpatialRGPTForCausalLM.from_config(config, tokenizer, device=device, dtype=dtype, seed=0)


def peak_memory_gib(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 1024**3
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # process peak RSS (KiB on Linux)


def run(name: str, mode: str, checkpointing: bool, batch: int, steps: int, warmup: int, data: Path, out: Path,
        device: torch.device, workers: int) -> dict:
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    model = build_model(name, device, dtype)
    stage = "align" if mode == "align" else "sft"
    config = TrainConfig(model="(in memory)", data=[str(data)], output_dir=str(out), stage=stage, lora=mode == "lora",
                         max_steps=warmup + steps, batch_size=batch, lr=1e-5, warmup_steps=1, progress=False,
                         plot=False, export=False, device=device.type, gradient_checkpointing=checkpointing,
                         num_workers=workers)
    trainer = Trainer(config, model=model)
    trainer.setup()
    trainable = sum(trainer.trainable_counts.values())
    total = sum(p.numel() for p in model.parameters())
    started = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - started
    rows = trainer.log_rows[warmup:]
    result = {"config": name, "mode": mode, "ckpt": "on" if checkpointing else "off", "batch": batch,
              "params_m": total / 1e6, "trainable_m": trainable / 1e6,
              "samples_s": statistics.median(r["samples_per_s"] for r in rows),
              "tokens_s": statistics.median(r["tokens_per_s"] for r in rows),
              "step_ms": 1000 * statistics.median(r["step_time_s"] for r in rows),
              "peak_gib": peak_memory_gib(device), "wall_s": wall}
    del trainer, model
    gc.collect()
    return result


def main(argv=None) -> int:
    cuda = torch.cuda.is_available()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--configs", default="real-small" if cuda else "tiny,small")
    p.add_argument("--modes", default="full,lora", help="full (LLM+connectors), lora (LoRA LLM + connectors), align")
    p.add_argument("--checkpointing", default="off,on" if cuda else "off", help="gradient checkpointing: off,on")
    p.add_argument("--batch-size", type=int, default=8 if cuda else 2)
    p.add_argument("--steps", type=int, default=10 if cuda else 4)
    p.add_argument("--warmup", type=int, default=3 if cuda else 1)
    p.add_argument("--workers", type=int, default=4 if cuda else 0, help="DataLoader workers")
    p.add_argument("--frames", type=int, default=24, help="synthetic scenes for the QA set")
    args = p.parse_args(argv)
    device = torch.device("cuda" if cuda else "cpu")
    name = torch.cuda.get_device_name(device) if cuda else f"CPU ({torch.get_num_threads()} threads)"
    print(f"device: {device.type} -- {name}; torch {torch.__version__}"
          f"{'; bf16 autocast, fp32 trainable weights' if cuda else '; fp32'}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "qa"
        summary = make_qa(synthetic_frames(args.frames, seed=0, width=640, height=480), data,
                          MakeQAConfig(seed=0, balance=False), progress=False)
        print(f"data: {summary.records} generated QAs (640x480 synthetic scenes, 196 image tokens + text per sample)",
              flush=True)
        results = []
        for config in args.configs.split(","):
            for mode in args.modes.split(","):
                for ckpt in args.checkpointing.split(","):
                    try:
                        results.append(run(config, mode, ckpt == "on", args.batch_size, args.steps, args.warmup,
                                           data, Path(tmp) / f"run_{config}_{mode}_{ckpt}", device, args.workers))
                        print(_row(results[-1]), flush=True, file=sys.stderr)
                    except torch.cuda.OutOfMemoryError:
                        print(f"{config} {mode} ckpt={ckpt}: out of memory", flush=True)
                        gc.collect()
                        torch.cuda.empty_cache()
    header = (f"{'config':<11} {'mode':<5} {'ckpt':<4} {'batch':>5} {'params M':>9} {'train M':>8} {'samples/s':>10} "
              f"{'tokens/s':>10} {'step ms':>9} {'peak GiB':>9}")
    print(f"\n{header}\n{'-' * len(header)}")
    for r in results:
        print(_row(r))
    memory = "peak CUDA memory allocated" if cuda else "peak process RSS (includes Python, data, all earlier rows)"
    print(f"\nmedian over {args.steps} steps after {args.warmup} warm-up; tokens = sequence tokens incl. image "
          f"tokens; step = data loading + forward + backward + AdamW; peak GiB = {memory}")
    return 0


def _row(r: dict) -> str:
    return (f"{r['config']:<11} {r['mode']:<5} {r['ckpt']:<4} {r['batch']:>5} {r['params_m']:>9.1f} "
            f"{r['trainable_m']:>8.1f} {r['samples_s']:>10.2f} {r['tokens_s']:>10.0f} {r['step_ms']:>9.0f} "
            f"{r['peak_gib']:>9.2f}")


if __name__ == "__main__":
    sys.exit(main())
