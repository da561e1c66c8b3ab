"""``rgpt-make-qa OUT``: template spatial QAs (24 categories) from RGB-D frames with regions, for fine-tuning.

Sources (combine freely; frames are used in this order: synthetic, episodes, bench files, annotated bags)::

    rgpt-make-qa data/qa --synthetic 500 --per-category 200 --eval-fraction 0.1
    rgpt-make-qa data/demo_qa --episode straight --episode-frames 60 --episode-stride 2
    rgpt-make-qa data/robot_qa --bench my_scenes.json --root my_scenes/ --turns 3
    rgpt-make-qa data/bag_qa --bag episode1_annotated/ --bag episode2_annotated/ --bag-stride 5

Writes images/, depth_images/ (the model's depth input), depth/ (16-bit mm), train-*.json shards
(reference training format), eval.json (bench format) and index.json.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import json
import sys
from pathlib import Path
from typing import Iterator, Optional, Sequence

from rgpt_ros.qa.categories import BENCH_CATEGORIES
from rgpt_ros.training.make_qa import MakeQAConfig, Rephraser, make_qa
from rgpt_ros.training.scene_graph import Margins
from rgpt_ros.training.sources import SourceFrame, bag_frames, bench_frames, episode_frames, synthetic_frames


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rgpt-make-qa", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("out", help="output folder")
    src = p.add_argument_group("sources")
    src.add_argument("--synthetic", type=int, default=0, metavar="N", help="N random synthetic scenes (masks, depth)")
    src.add_argument("--width", type=int, default=640, help="synthetic / episode image width")
    src.add_argument("--height", type=int, default=480, help="synthetic / episode image height")
    src.add_argument("--episode", action="append", default=[], metavar="KIND",
                     help="a synthetic reaching episode (straight, pause_retreat, curved); repeatable")
    src.add_argument("--episode-frames", type=int, default=60, help="frames per episode")
    src.add_argument("--episode-stride", type=int, default=1, help="use every k-th episode frame")
    src.add_argument("--bench", action="append", default=[], metavar="JSON",
                     help="bench-format file with depth_info + camera per sample; repeatable")
    src.add_argument("--root", default=None, help="folder the bench files' image/depth paths are relative to")
    src.add_argument("--bag", action="append", default=[], metavar="BAG",
                     help="bag annotated by rgpt-annotate (colour, depth, CameraInfo + tracked regions); repeatable")
    src.add_argument("--bag-stride", type=int, default=1, help="use every k-th annotated bag frame")
    src.add_argument("--regions-topic", default="/rgpt/regions", help="RegionArray topic of the annotated bags")
    gen = p.add_argument_group("generation")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--categories", default=",".join(BENCH_CATEGORIES), help="comma-separated category names")
    gen.add_argument("--per-category", type=int, default=None, help="stop each category at this many QAs")
    gen.add_argument("--per-frame", type=int, default=1, help="QAs per category per frame (at most)")
    gen.add_argument("--no-balance", action="store_true", help="keep every QA (default: cut to the rarest category)")
    gen.add_argument("--turns", type=int, default=1, help="QA pairs per conversation (1 = bench-compatible records)")
    gen.add_argument("--shard-size", type=int, default=5000, help="records per training shard")
    gen.add_argument("--eval-fraction", type=float, default=0.0, help="share of frames held out as eval.json")
    gen.add_argument("--min-gap", type=float, default=Margins.position_m,
                     help="metres: position relations closer than this are skipped as too close to call")
    gen.add_argument("--min-length", type=float, default=Margins.min_length_m,
                     help="metres: smallest distance/size asked about")
    gen.add_argument("--rephrase", default=None, metavar="MODULE:FUNCTION",
                     help="optional LLM hook: FUNCTION(question, category) -> reworded question "
                          "naming the same regions")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def load_rephraser(spec: Optional[str]) -> Optional[Rephraser]:
    """``module:function`` -> the callable (ValueError when it cannot be imported)."""
    if not spec:
        return None
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"--rephrase must be MODULE:FUNCTION, got {spec!r}")
    try:
        function = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"--rephrase {spec!r} cannot be loaded: {exc}") from exc
    if not callable(function):
        raise ValueError(f"--rephrase {spec!r} is not callable")
    return function


def sources_from_args(args: argparse.Namespace) -> tuple[Iterator[SourceFrame], Optional[int]]:
    """The chained frame sources and their frame count when known (for the progress bar)."""
    chains: list = []
    total: Optional[int] = 0
    if args.synthetic:
        chains.append(synthetic_frames(args.synthetic, args.seed, args.width, args.height))
        total += args.synthetic
    for i, kind in enumerate(args.episode):
        chains.append(episode_frames(kind, args.episode_frames, args.seed + i, args.episode_stride, args.width,
                                     args.height))
        total += -(-args.episode_frames // max(args.episode_stride, 1))
    for i, path in enumerate(args.bench):
        chains.append(bench_frames(path, args.root, key_prefix=f"bench{i}_"))
        total = None
    for i, path in enumerate(args.bag):
        chains.append(bag_frames(path, regions_topic=args.regions_topic, stride=args.bag_stride,
                                 key_prefix=f"bag{i}_{Path(path).stem}"))
        total = None
    if not chains:
        raise ValueError("no source given: use --synthetic N, --episode KIND, --bench FILE and/or --bag BAG")
    return itertools.chain(*chains), total


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        categories = tuple(c.strip() for c in args.categories.split(",") if c.strip())
        margins = Margins(position_m=args.min_gap, min_length_m=args.min_length)
        config = MakeQAConfig(seed=args.seed, categories=categories, per_category=args.per_category,
                              per_frame=args.per_frame, balance=not args.no_balance, turns=args.turns,
                              shard_size=args.shard_size, eval_fraction=args.eval_fraction, margins=margins)
        rephrase = load_rephraser(args.rephrase)
        sources, total = sources_from_args(args)
        summary = make_qa(sources, args.out, config, rephrase=rephrase, progress=not args.no_progress, total=total)
    except (FileNotFoundError, ValueError) as exc:
        print(f"rgpt-make-qa: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"records": summary.records, "eval_records": summary.eval_records,
                      "frames_used": summary.frames_used, "frames_seen": summary.frames_seen,
                      "shards": summary.shards, "counts": summary.counts}, indent=1))
    if summary.records == 0 and summary.eval_records == 0:
        print("rgpt-make-qa: error: no question could be generated (too few measurable regions?)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
