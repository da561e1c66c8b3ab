"""``rgpt-bench BENCH_JSON --root DIR [--backend geometric] --out PRED.jsonl``: answer and score a bench file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterator, Optional, Sequence

from tqdm import tqdm

from rgpt_ros.engines.base import SpatialEngine, available_engines, make_engine
from rgpt_ros.qa.bench import BenchFormatError, BenchSample, DepthEstimator, load_bench, load_frame, write_jsonl_atomic
from rgpt_ros.qa.scoring import Score, format_table, score_answer, summarise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rgpt-bench", description="Answer and score a SpatialRGPT-Bench file "
                                     "(per-category success table on stdout, one JSON line per sample in --out).")
    parser.add_argument("bench_json", help="bench file (SpatialRGPT-Bench JSON list, optionally with depth_info/camera)")
    parser.add_argument("--root", default=None, help="folder the image/depth paths are relative to (default: the JSON's)")
    parser.add_argument("--backend", default="geometric", help=f"answer engine: {', '.join(available_engines())}")
    parser.add_argument("--checkpoint", default=None, help="model checkpoint folder (model backends)")
    parser.add_argument("--engine-option", "-O", action="append", default=[], metavar="KEY=VALUE",
                        help="extra engine option, e.g. -O edge_px=1 -O largest_cluster=true (values read as JSON)")
    parser.add_argument("--depth-model", default=None, metavar="PATH_OR_ID",
                        help="metric Depth Anything checkpoint (folder or hub id) for samples without depth")
    parser.add_argument("--depth-device", default="cpu", help="torch device of --depth-model (cpu, cuda, ...)")
    parser.add_argument("--out", required=True, help="predictions file to write (JSON lines)")
    parser.add_argument("--limit", type=int, default=None, help="answer only the first N samples")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def engine_options(args: argparse.Namespace) -> dict:
    """Keyword options for make_engine from the command line (--checkpoint, -O KEY=VALUE)."""
    options: dict = {"checkpoint": args.checkpoint} if args.checkpoint else {}
    for item in args.engine_option:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"engine option {item!r} must look like KEY=VALUE")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    return options


def depth_estimator_from_args(args: argparse.Namespace) -> Optional[DepthEstimator]:
    """Metric depth for samples without sensor depth (``--depth-model``); None = such samples are skipped."""
    if not args.depth_model:
        return None
    from rgpt_ros.depth import make_depth_source

    source = make_depth_source(args.depth_model, device=args.depth_device, require_metric=True)
    return lambda rgb: source(rgb)[0]


def run_bench(samples: Sequence[BenchSample], engine: SpatialEngine, depth_estimator: Optional[DepthEstimator] = None,
              progress: bool = True) -> Iterator[tuple[dict, Score]]:
    """Answer every sample; yields (prediction row, score). Engines that need metric depth skip samples
    without it unless a depth estimator is given. Frames are loaded once per image+depth pair."""
    needs_depth = bool(getattr(engine, "needs_metric_depth", False))
    cache_key, frame = None, None
    for sample in tqdm(samples, desc="rgpt-bench", unit="q", disable=not progress, file=sys.stderr):
        row = {"id": sample.id, "category": sample.category, "question": sample.question, "reference": sample.reference}
        if needs_depth and not sample.has_depth and depth_estimator is None:
            row.update(pred="", value=None, unit="", skipped=True, message="no depth in the sample and no depth estimator")
            yield row, Score(sample.category, None, skipped=True)
            continue
        key = (sample.image_path, sample.depth_path)
        if key != cache_key:
            frame, cache_key = load_frame(sample, depth_estimator), key
        answer = engine.answer(frame, sample.regions, sample.question)
        row.update(pred=answer.text, value=answer.value, unit=answer.unit, success=answer.success,
                   engine_category=answer.category, message=answer.message)
        score = score_answer(sample.category, answer.text, sample.reference,
                             pred_value=answer.value if answer.success else None, pred_unit=answer.unit)
        if not answer.success and score.success is not None:
            score.success = False  # a refusal never counts as right, whatever its text happens to parse as
        row["correct"] = score.success
        yield row, score


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        samples = load_bench(args.bench_json, args.root)
        if args.limit is not None:
            samples = samples[: max(args.limit, 0)]
        engine = make_engine(args.backend, **engine_options(args))
        estimator = depth_estimator_from_args(args)
        rows, scores = [], []
        for row, score in run_bench(samples, engine, estimator, progress=not args.no_progress):
            rows.append(row)
            scores.append(score)
    except (FileNotFoundError, BenchFormatError, ValueError) as exc:
        print(f"rgpt-bench: error: {exc}", file=sys.stderr)
        return 2
    out = write_jsonl_atomic(rows, args.out)
    print(format_table(summarise(scores)))
    skipped = sum(s.skipped for s in scores)
    print(f"\n{len(rows)} samples, {skipped} skipped; predictions written to {Path(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
