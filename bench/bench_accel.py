"""Acceleration benchmark: eager PyTorch vs every accelerated runtime that works here, per model part.

    .venv/bin/python bench/bench_accel.py [--models depth-small,depth-large,siglip] [--repeats 20] [--cpu-size 518]

Random weights of the real shapes (no downloads): Depth Anything V2-Small / V2-Large at 518x518,
SigLIP so400m-patch14-384 (the SpatialRGPT vision tower, features of the penultimate layer), batch 1.
On CUDA: eager (fp16), CUDA graphs (fp16), torch.compile (fp16), ONNX Runtime CUDA / TensorRT EPs and
native TensorRT (fp16 engines built from fp32 ONNX) for whichever are installed; all paths and ratios are
measured in this run. Without CUDA: the small depth model only, eager fp32 vs ONNX Runtime CPU with the
same thread count (--threads, default 1; the large models take many seconds per CPU run). Parity = max|out - ref| / max|ref| against eager fp32.
Median latency over --repeats timed rounds after warm-up, all paths of a model timed round-robin so load
changes on a shared machine hit them alike; first-time engine builds are excluded (cached under
--cache-dir, default a temporary folder).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from rgpt_ros.accel import (ModelPart, RuntimeUnavailableError, build_runner, depth_model_part, parity_errors,
                            siglip_features_part)
from rgpt_ros.accel.cache import gpu_name, tensorrt_version
from rgpt_ros.accel.export import ensure_onnx
from rgpt_ros.accel.ort_runner import OrtRunner
from rgpt_ros.depth.configs import random_depth_model

GPU_BACKENDS = ("torch-cuda-graph", "torch-compile", "ort-cuda", "ort-tensorrt", "tensorrt")
CPU_BACKENDS = ("ort-cpu",)


def siglip_so400m(seed: int = 0):
    """SigLIP so400m-patch14-384 shapes, penultimate-layer features (what SpatialRGPT uses)."""
    from transformers import SiglipVisionConfig, SiglipVisionModel

    from rgpt_ros.model.vision import SigLIPFeatures

    torch.manual_seed(seed)
    config = SiglipVisionConfig(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27,
                                num_attention_heads=16, image_size=384, patch_size=14)
    return SigLIPFeatures(SiglipVisionModel(config).eval(), select_layer=-2).eval()


def make_part(name: str, size: int, device: torch.device) -> ModelPart:
    if name == "siglip":
        return siglip_features_part(siglip_so400m().to(device), name="siglip-so400m")
    variant = name.split("-", 1)[1]
    return depth_model_part(random_depth_model(variant, seed=0).to(device), (size, size),
                            name=f"v2-{variant}")


def time_runners(runners: dict, inputs, repeats: int, cuda: bool) -> dict[str, float]:
    """Median milliseconds per runner, timed round-robin (one run of each per round) so that load
    changes on a shared machine hit every path alike; synchronised on CUDA."""
    for run in runners.values():
        for _ in range(3):
            run(inputs)
    samples: dict[str, list[float]] = {key: [] for key in runners}
    for _ in range(repeats):
        for key, run in runners.items():
            if cuda:
                torch.cuda.synchronize()
            tick = time.perf_counter()
            run(inputs)
            if cuda:
                torch.cuda.synchronize()
            samples[key].append(1e3 * (time.perf_counter() - tick))
    return {key: statistics.median(values) for key, values in samples.items()}


def half_part(part: ModelPart) -> ModelPart:
    """The same part with an fp16 copy of the module (the eager / CUDA-graph / compile fp16 baseline)."""
    return ModelPart(part.name, copy.deepcopy(part.module).half(), part.inputs, part.output_names,
                     fingerprint=part.fingerprint + "-fp16")


def bench_part(part: ModelPart, backends, repeats: int, cache: Path, cuda: bool, threads: int) -> list[dict]:
    from rgpt_ros.accel.torch_runner import TorchRunner

    inputs = part.example_inputs(seed=0)
    with torch.inference_mode():
        reference = part.outputs_as_dict(part.module(*inputs.values()))
    rows: list[dict] = []
    baselines = [("torch-eager", "fp32", TorchRunner(part))]
    torch_part = part
    if cuda:
        torch_part = half_part(part)
        baselines.append(("torch-eager", "fp16", TorchRunner(torch_part)))
    built = {}
    for name, precision, runner in baselines + [(b, None, None) for b in backends]:
        started = time.monotonic()
        try:
            if runner is None and name == "ort-cpu":
                runner, precision = OrtRunner(part, ensure_onnx(part, cache_dir=cache), "cpu",
                                              intra_op_threads=threads), "fp32"
            elif runner is None:
                runner = build_runner(torch_part if name.startswith("torch-") else part, name, cache_dir=cache,
                                      fp16=cuda)
                precision = "fp16" if cuda else "fp32"  # ort-cuda runs an fp16 graph when fp16=True
        except (RuntimeUnavailableError, RuntimeError, OSError) as err:
            rows.append({"part": part.name, "path": name, "precision": "-", "ms": None, "parity": None,
                         "note": str(err).splitlines()[0][:70]})
            continue
        build_s = time.monotonic() - started
        error = max(parity_errors(reference, runner.run(inputs)).values())
        key = f"{runner.provider}/{precision}"
        built[key] = runner.run
        rows.append({"part": part.name, "path": runner.provider, "precision": precision, "key": key, "ms": None,
                     "parity": error, "note": f"setup {build_s:.0f} s" if build_s > 1 else ""})
    print(f"  timing {part.name}: {', '.join(built)}", file=sys.stderr, flush=True)
    medians = time_runners(built, inputs, repeats, cuda)
    for row in rows:
        if row.get("key") in medians:
            row["ms"] = medians[row["key"]]
    return rows


def print_table(rows: list[dict], title: str) -> None:
    print(f"\n{title}")
    print(f"{'model':26s} {'path':30s} {'prec':5s} {'median ms':>10s} {'vs eager':>9s} {'parity':>9s}  note")
    eager = {r["part"]: r["ms"] for r in rows if r["path"] == "torch-eager" and r["precision"] == "fp32"}
    eager16 = {r["part"]: r["ms"] for r in rows if r["path"] == "torch-eager" and r["precision"] == "fp16"}
    for r in rows:
        if r["ms"] is None:
            print(f"{r['part']:26s} {r['path']:30s} {'-':5s} {'n/a':>10s} {'':>9s} {'':>9s}  {r['note']}")
            continue
        base = eager16.get(r["part"], eager[r["part"]]) if r["precision"] == "fp16" else eager[r["part"]]
        print(f"{r['part']:26s} {r['path']:30s} {r['precision']:5s} {r['ms']:10.2f} {base / r['ms']:8.2f}x "
              f"{r['parity']:9.1e}  {r['note']}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=None, help="comma list of depth-small, depth-base, depth-large, siglip "
                   "(default: all three on CUDA, depth-small on CPU)")
    p.add_argument("--repeats", type=int, default=None, help="timed runs per path (default 50 CUDA, 5 CPU)")
    p.add_argument("--cpu-size", type=int, default=518, help="depth input size on CPU (multiple of 14)")
    p.add_argument("--cache-dir", type=Path, help="engine cache (default: a temporary folder)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for eager PyTorch and ONNX Runtime alike "
                   "(default 1: stable on a shared machine)")
    args = p.parse_args(argv)
    cuda = torch.cuda.is_available()
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if cuda else "cpu")
    models = (args.models or ("depth-small,depth-large,siglip" if cuda else "depth-small")).split(",")
    repeats = args.repeats or (50 if cuda else 5)
    size = 518 if cuda else args.cpu_size
    backends = GPU_BACKENDS if cuda else CPU_BACKENDS
    cache = args.cache_dir or Path(tempfile.mkdtemp(prefix="rgpt_bench_accel_"))
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False  # fp32 reference stays fp32
    rows = []
    for name in models:
        print(f"building {name} ...", file=sys.stderr, flush=True)
        rows += bench_part(make_part(name, size, device), backends, repeats, cache, cuda, torch.get_num_threads())
    where = (f"CUDA {gpu_name()}, TensorRT {tensorrt_version() or 'not installed'}" if cuda
             else f"CPU ({torch.get_num_threads()} thread(s) each), no CUDA")
    print_table(rows, f"bench_accel: batch 1, depth {size}x{size}, SigLIP 384x384, {repeats} runs, {where}, "
                f"torch {torch.__version__}")
    if not cuda:
        ort = next((r for r in rows if r["path"] == "ort:CPUExecutionProvider" and r["ms"]), None)
        eager = next(r for r in rows if r["path"] == "torch-eager")
        if ort:
            print(f"\nCPU: ONNX Runtime / eager PyTorch latency ratio for {eager['part']} = "
                  f"{ort['ms'] / eager['ms']:.2f} (speed-up {eager['ms'] / ort['ms']:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
