"""Tracker benchmark on generated reaching episodes: speed and accuracy per episode kind.

Usage: .venv/bin/python bench/bench_tracking.py [--seeds 3] [--frames 60] [--width 640 --height 480]
Prints one row per (episode kind, tracker mode): median ms per frame (2 regions, one core), mean IoU
and success rate (IoU > 0.5, on frames where the object is visible) for fingertip and cube, and for
occluded episodes the share of occluded frames reported as lost and the frames needed to recover.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from rgpt_ros.synthetic.episodes import make_episode
from rgpt_ros.tracking import MultiRegionTracker, TrackerConfig, box_iou

CASES = [("straight", None), ("pause_retreat", None), ("curved", None), ("straight", (25, 28))]
MODES = {"flow+template": TrackerConfig(), "template only": TrackerConfig(use_flow=False)}


def run_case(frames, config: TrackerConfig, occluded: range) -> dict:
    tracker = MultiRegionTracker(config)
    tracker.set_regions(frames[0].rgb, frames[0].regions())
    times, ious, lost_flags, recover = [], {"fingertip": [], "cube": []}, [], None
    for f in frames[1:]:
        t0 = time.perf_counter()
        regions = {r.id: r for r in tracker.update(f.rgb)}
        times.append(time.perf_counter() - t0)
        for name, region in regions.items():
            truth = f.boxes[name]
            if truth is not None:
                ious[name].append(box_iou(region.box, truth) if region.tracked else 0.0)
        if f.index in occluded:
            lost_flags.append(not regions["fingertip"].tracked)
        elif occluded and f.index > occluded[-1] and recover is None and regions["fingertip"].tracked:
            recover = f.index - occluded[-1]
    return {"ms": 1000 * float(np.median(times)), "tip": np.array(ious["fingertip"]), "cube": np.array(ious["cube"]),
            "lost": float(np.mean(lost_flags)) if lost_flags else float("nan"), "recover": recover}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    print(f"tracker benchmark: {args.width}x{args.height}, {args.frames} frames, seeds 0..{args.seeds - 1}, "
          "2 regions, 1 OpenCV thread")
    header = (f"{'episode':22s} {'mode':14s} {'ms/frame':>8s} {'tip IoU':>7s} {'tip ok':>6s} "
              f"{'cube IoU':>8s} {'cube ok':>7s} {'lost@occl':>9s} {'recover':>7s}")
    print(header)
    print("-" * len(header))
    for kind, occlude in CASES:
        episodes = [list(make_episode(kind, n_frames=args.frames, seed=s, width=args.width, height=args.height,
                                      occlude=occlude)) for s in range(args.seeds)]
        occluded = range(occlude[0], occlude[1] + 1) if occlude else range(0)
        for mode, config in MODES.items():
            rows = [run_case(frames, config, occluded) for frames in episodes]
            tip = np.concatenate([r["tip"] for r in rows])
            cube = np.concatenate([r["cube"] for r in rows])
            recovers = [r["recover"] for r in rows if r["recover"] is not None]
            name = kind + (" +occlusion" if occlude else "")
            lost = f"{np.mean([r['lost'] for r in rows]):9.2f}" if occlude else f"{'-':>9s}"
            rec = f"{np.median(recovers):7.1f}" if recovers else f"{'-':>7s}"
            print(f"{name:22s} {mode:14s} {np.median([r['ms'] for r in rows]):8.2f} {tip.mean():7.2f} "
                  f"{np.mean(tip > 0.5):6.2f} {cube.mean():8.2f} {np.mean(cube > 0.5):7.2f} {lost} {rec}")


if __name__ == "__main__":
    main()
