"""``rgpt-annotate``: offline reward/region annotation of ROS 2 bags (sqlite3 and MCAP), no ROS install needed.

Examples::

    rgpt-annotate episode1/ --region fingertip=300,200,330,230 --region cube=400,260,460,320 \\
        --out episode1_annotated --csv episode1.csv --plot episode1.png
    rgpt-annotate data/*.mcap --region ... --out annotated/ --csv csv/ --workers 8
    rgpt-annotate rgb_only.mcap --region ... --out annotated \\
        --depth-model depth-anything/Depth-Anything-V2-Metric-Indoor-Small-hf
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Optional, Sequence

from rgpt_ros.bags.annotate import REGIONS_TOPIC, REWARD_TOPIC, AnnotationOptions
from rgpt_ros.bags.batch import BagResult, annotate_many, plan_jobs
from rgpt_ros.geometry.regions import RegionError, parse_box_spec


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rgpt-annotate", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bags", nargs="+", metavar="BAG", help="bag directories or .db3/.mcap files (never modified)")
    p.add_argument("--region", action="append", default=[], metavar="NAME=x1,y1,x2,y2",
                   help="region box on the first synchronised frame (repeat); default: the bag's RegionArray topic")
    p.add_argument("--pair", metavar="A,B", help="the two region ids to measure (default: the config's pair when "
                   "both are among the regions, else the only two regions)")
    p.add_argument("--out", required=True, help="output bag (one input) or directory of output bags (several)")
    p.add_argument("--csv", help="per-frame CSV file (one input) or directory of <bag>.csv (several)")
    p.add_argument("--plot", help="PNG plot file (one input) or directory of <bag>.png (several)")
    p.add_argument("--rgb-topic", help="colour image topic (default: detected by encoding)")
    p.add_argument("--depth-topic", help="registered depth topic (default: detected, 16UC1/32FC1)")
    p.add_argument("--info-topic", help="CameraInfo topic (default: detected)")
    p.add_argument("--regions-topic", help="RegionArray topic to take the regions from (default: detected)")
    p.add_argument("--reward-topic", default=REWARD_TOPIC, help=f"output reward topic (default {REWARD_TOPIC})")
    p.add_argument("--regions-out-topic", default=REGIONS_TOPIC,
                   help=f"output tracked-regions topic (default {REGIONS_TOPIC})")
    p.add_argument("--backend", default="geometric", choices=["geometric", "spatialrgpt"],
                   help="engine that measures distances (default geometric; the reward pipeline is geometric only)")
    p.add_argument("--config", help="reward node parameter file (default: the package's config/reward.yaml)")
    p.add_argument("--storage", choices=["sqlite3", "mcap"], help="output storage (default: same as input)")
    p.add_argument("--depth-scale", type=float, help="metres per depth unit for 16UC1 (default 0.001)")
    p.add_argument("--depth-model", metavar="PATH_OR_ID",
                   help="metric Depth Anything checkpoint estimating depth for bags without a depth topic "
                        "(bags with depth keep their sensor depth)")
    p.add_argument("--depth-device", default="cpu", help="torch device of --depth-model (default cpu)")
    p.add_argument("--workers", type=int, default=1, help="bags annotated in parallel on this machine")
    p.add_argument("--partial", action="store_true", help="annotate the readable part of truncated/corrupt bags")
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--summary-json", help="write the per-bag summaries to this JSON file")
    return p


def parse_pair(text: Optional[str]) -> Optional[tuple[str, str]]:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise RegionError(f"--pair must be two region ids 'A,B', got {text!r}")
    return parts[0], parts[1]


def load_config(path: Optional[str]) -> Optional[dict[str, Any]]:
    """The reward config mapping from YAML; None = the package's config/reward.yaml (or the nodes' defaults)."""
    import yaml

    from rgpt_ros.bags.settings import default_config_path

    if path is None:
        default = default_config_path()
        if default is None:
            return None
        path = str(default)
    try:
        data = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise ValueError(f"cannot read --config {path!r}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise ValueError(f"--config {path!r} is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"--config {path!r} must hold a mapping, got {type(data).__name__}")
    return data


def options_from_args(args: argparse.Namespace) -> AnnotationOptions:
    return AnnotationOptions(
        regions=[parse_box_spec(spec) for spec in args.region], pair=parse_pair(args.pair),
        config=load_config(args.config), backend=args.backend, rgb_topic=args.rgb_topic,
        depth_topic=args.depth_topic, info_topic=args.info_topic, regions_topic=args.regions_topic,
        reward_topic=args.reward_topic, regions_out_topic=args.regions_out_topic, storage=args.storage,
        partial=args.partial, overwrite=args.overwrite, progress=not args.no_progress and sys.stderr.isatty(),
        depth_scale=args.depth_scale, depth_model=args.depth_model, depth_device=args.depth_device)


def _report(result: BagResult) -> None:
    if not result.ok:
        print(f"FAILED {result.bag}: {result.error}", file=sys.stderr)
        return
    s = result.summary or {}
    note = f"  (partial: {s['damage']})" if s.get("damage") else ""
    print(f"{result.bag} -> {s['out']}: {s['frames']} frames, {100 * s['valid_fraction']:.1f}% valid, "
          f"{s['seconds']:.1f} s{note}", file=sys.stderr)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    if args.backend != "geometric":
        parser.error(f"--backend {args.backend}: reward annotation measures distances geometrically from depth "
                     "(the reward pipeline has no model backend); use --backend geometric")
    try:
        options = options_from_args(args)
        jobs = plan_jobs(args.bags, args.out, args.csv, args.plot)
    except ValueError as exc:
        parser.error(str(exc))
    if options.depth_model:
        from rgpt_ros.bags.depth_model import load_depth_model

        try:  # a relative or unreadable checkpoint is refused before any bag is read
            load_depth_model(options.depth_model, options.depth_device)
        except (ValueError, OSError, RuntimeError) as exc:
            parser.error(f"--depth-model {options.depth_model!r}: {exc}")
    from tqdm import tqdm

    overall = tqdm(total=len(jobs), unit="bag", desc="bags", disable=not (options.progress and len(jobs) > 1))

    def on_result(result: BagResult) -> None:
        _report(result)
        overall.update(1)

    with overall:
        results = annotate_many(jobs, options, workers=args.workers, on_result=on_result)
    if args.summary_json:
        Path(args.summary_json).write_text(json.dumps([r.__dict__ for r in results], indent=2, default=str))
    failed = [r for r in results if not r.ok]
    if len(results) > 1:
        print(f"{len(results) - len(failed)}/{len(results)} bags annotated", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
