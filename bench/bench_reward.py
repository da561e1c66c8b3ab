"""Reward pipeline benchmark on generated reaching episodes: per-frame cost and distance accuracy.

Usage: .venv/bin/python bench/bench_reward.py [--seeds 2] [--frames 40] [--width 640 --height 480]
One row per (gravity source, metric): median ms per frame of ``RewardPipeline.step`` (own tracker +
region clouds + distance + shaping; wall clock and process CPU time), valid-frame share, and the mean /
max absolute error against the analytic truth (closest surfaces for "closest" and "mean_nn", centres for
"centroid"; "mean_nn" is a different quantity, so its error only shows how far it is from the gap).
"""

from __future__ import annotations

from rgpt_ros.ros.launcher import limit_native_threads

limit_native_threads()  # as in the node processes: one OpenBLAS and one OpenCV thread

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from rgpt_ros.reward import RewardPipeline  # noqa: E402
from rgpt_ros.synthetic.episodes import KINDS, make_episode

CASES = [("up from renderer", True, 10), ("plane fit every frame", False, 1), ("plane fit every 10th", False, 10)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args()
    episodes = [list(make_episode(kind, n_frames=args.frames, seed=s, width=args.width, height=args.height))
                for kind in KINDS for s in range(args.seeds)]
    print(f"reward pipeline: {args.width}x{args.height}, {len(episodes)} episodes ({', '.join(KINDS)}) "
          f"x {args.frames} frames")
    header = f"{'gravity':24s} {'metric':9s} {'ms/frame':>8s} {'cpu ms':>7s} {'valid':>6s} {'|err| cm':>8s} {'max cm':>7s}"
    print(header)
    print("-" * len(header))
    for label, with_up, every in CASES:
        for metric in ("closest", "centroid", "mean_nn"):
            wall, cpu, errors, valid = [], [], [], []
            for frames in episodes:
                rgbd = [f.rgbd(with_up=with_up) for f in frames]
                pipeline = RewardPipeline(metric=metric, gravity_every=every)
                pipeline.reset(rgbd[0], frames[0].regions())
                for f, frame in zip(frames, rgbd):
                    t0, c0 = time.perf_counter(), time.process_time()
                    result = pipeline.step(frame)
                    wall.append(time.perf_counter() - t0)
                    cpu.append(time.process_time() - c0)
                    valid.append(result.valid)
                    if result.valid:
                        truth = f.centroid_distance if metric == "centroid" else f.distance
                        errors.append(abs(result.distance - truth))
            err = np.array(errors) * 100.0
            print(f"{label:24s} {metric:9s} {1000 * np.median(wall):8.1f} {1000 * np.median(cpu):7.1f} "
                  f"{np.mean(valid):6.2f} {err.mean():8.2f} {err.max():7.2f}")


if __name__ == "__main__":
    main()
