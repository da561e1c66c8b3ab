"""``rgpt-export``: export model parts to static-shape ONNX and build runtime engines ahead of time.

The first TensorRT build of a large model takes minutes; run this once per machine (after installing
or updating TensorRT, the GPU driver or a checkpoint) so nodes start with a cached engine.

Examples::

    rgpt-export --depth depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf --depth-size 518
    rgpt-export --spatialrgpt a8cheng/SpatialRGPT-VILA1.5-8B --regions 4 --backend tensorrt --check
    rgpt-export --depth ./my_depth_model --backend ort-cpu --cache-dir /data/engines
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence

import torch

from rgpt_ros.accel import BACKENDS, ModelPart, default_cache_dir, parity_errors, select_runner, vision_encoder_part
from rgpt_ros.accel.export import DEFAULT_OPSET, ensure_onnx

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rgpt-export", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 2)[2])
    p.add_argument("--depth", action="append", default=[], metavar="PATH_OR_ID",
                   help="Depth Anything checkpoint folder or hub id (repeatable)")
    p.add_argument("--depth-size", type=int, default=518, help="square depth network input, multiple of 14 (518)")
    p.add_argument("--spatialrgpt", metavar="PATH_OR_ID", help="SpatialRGPT checkpoint: export its vision encoder")
    p.add_argument("--regions", type=int, default=4, help="region count of the vision engine (pad with empty masks)")
    p.add_argument("--batch", type=int, default=1, help="static batch size (1)")
    p.add_argument("--backend", default="auto", help=f"'auto', 'onnx' (export only) or one of {', '.join(BACKENDS)}")
    p.add_argument("--cache-dir", type=Path, help=f"cache folder (default $RGPT_CACHE_DIR or {default_cache_dir()})")
    p.add_argument("--device", default="auto", help="torch device for loading / eager reference ('auto')")
    p.add_argument("--fp32", action="store_true", help="build fp32 engines (default fp16 where supported)")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset (>= 17, default {DEFAULT_OPSET})")
    p.add_argument("--check", action="store_true", help="compare each runner with eager PyTorch on random input")
    p.add_argument("--local-files-only", action="store_true", help="never contact the hub (also: HF_HUB_OFFLINE=1)")
    return p


def _device(name: str) -> torch.device:
    return torch.device("cuda" if name == "auto" and torch.cuda.is_available() else ("cpu" if name == "auto" else name))


def model_parts(args: argparse.Namespace, device: torch.device, report: Callable[[str], None]) -> Iterator[ModelPart]:
    """Load each requested model and yield its exportable parts (fp32: engines choose their own precision)."""
    from rgpt_ros.depth import DepthEstimator

    for source in args.depth:
        report(f"loading depth model {source}")
        est = DepthEstimator.from_pretrained(source, device=device, input_size=args.depth_size,
                                             local_files_only=args.local_files_only or None)
        yield est.model_part(batch=args.batch)
    if args.spatialrgpt:
        from rgpt_ros.model.modeling import SpatialRGPTForCausalLM

        report(f"loading SpatialRGPT {args.spatialrgpt} on CPU in bfloat16 (its vision encoder is exported)")
        model = SpatialRGPTForCausalLM.from_pretrained(args.spatialrgpt, device="cpu", dtype=torch.bfloat16,
                                                       local_files_only=args.local_files_only or None)
        vision = model.vision.to(device=device, dtype=torch.float32)  # checkpoints are bf16: nothing is lost
        del model
        yield vision_encoder_part(vision, num_regions=args.regions, batch=args.batch,
                                  name=Path(str(args.spatialrgpt)).name or "spatialrgpt")


def export_part(part: ModelPart, args: argparse.Namespace, report: Callable[[str], None]) -> dict:
    """Export (and build) one part; returns its summary row."""
    started = time.monotonic()
    row = {"part": part.name, "provider": "onnx", "parity": "", "ms": "", "seconds": ""}
    if args.backend == "onnx":
        report(f"  exporting ONNX (opset {args.opset})")
        row["provider"] = f"onnx: {ensure_onnx(part, cache_dir=args.cache_dir, opset=args.opset)}"
    else:
        runner = select_runner(part, args.backend, cache_dir=args.cache_dir, fp16=not args.fp32, opset=args.opset,
                               strict=args.backend != "auto", progress=report)
        row["provider"] = runner.provider
        inputs = part.example_inputs(seed=0)
        runner.run(inputs)  # the ORT TensorRT EP builds its engine on the first run
        if args.check:
            with torch.inference_mode():
                reference = part.outputs_as_dict(part.module(*inputs.values()))
            row["parity"] = f"{max(parity_errors(reference, runner.run(inputs)).values()):.1e}"
        if part.device.type == "cuda":
            torch.cuda.synchronize()
        tick = time.perf_counter()
        runner.run(inputs)
        if part.device.type == "cuda":
            torch.cuda.synchronize()
        row["ms"] = f"{1e3 * (time.perf_counter() - tick):.1f}"
    row["seconds"] = f"{time.monotonic() - started:.1f}"
    return row


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.depth and not args.spatialrgpt:
        print("rgpt-export: nothing to export; give --depth and/or --spatialrgpt", file=sys.stderr)
        return 2
    if args.backend not in ("auto", "onnx") + BACKENDS:
        print(f"rgpt-export: unknown backend {args.backend!r}; use auto, onnx or one of {BACKENDS}", file=sys.stderr)
        return 2
    args.cache_dir = args.cache_dir or default_cache_dir()

    def report(text: str) -> None:
        print(f"[rgpt-export {time.strftime('%H:%M:%S')}] {text}", flush=True)

    rows = []
    try:
        for index, part in enumerate(model_parts(args, _device(args.device), report), start=1):
            report(f"[{index}] {part.name}: {part.shape_key}")
            rows.append(export_part(part, args, report))
            report(f"[{index}] {part.name}: done on {rows[-1]['provider']} in {rows[-1]['seconds']} s")
    except (ValueError, RuntimeError, OSError) as err:
        print(f"rgpt-export: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    print(f"\ncache: {args.cache_dir}")
    print(f"{'part':40s} {'runs on':34s} {'parity':>8s} {'ms':>8s} {'total s':>8s}")
    for row in rows:
        print(f"{row['part']:40s} {row['provider'][:34]:34s} {row['parity']:>8s} {row['ms']:>8s} {row['seconds']:>8s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
