"""``make demo``: the main job end to end on a generated reaching episode, over real DDS.

A fingertip approaches a cube, pauses and retreats (640x480 RGB-D with sensor noise). The episode
is played at 30 Hz on RealSense topic names; the tracker, reward and spatial_qa nodes run in the
processes ``reward.launch.py`` starts (tracker + reward in one container, spatial_qa alone); the demo
records every SpatialReward, asks spatial questions through ``/rgpt/spatial_query``, prints a table
and writes a PNG plot.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

import numpy as np


def _parse(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="rgpt-demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", default="pause_retreat", choices=("straight", "pause_retreat", "curved"))
    parser.add_argument("--frames", type=int, default=150, help="episode length (frames at --rate)")
    parser.add_argument("--rate", type=float, default=30.0, help="camera rate in Hz")
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="demo_out", help="folder for the plot, CSV and node logs")
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parse(argv)
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    from tqdm import tqdm

    from rgpt_ros.bags.export import write_csv
    from rgpt_ros.bags.plot import write_plot
    from rgpt_ros.bags.records import FrameRecord
    from rgpt_ros.ros.conversions import stamp_to_ns
    from rgpt_ros.ros.episode_player import PlayerFrame
    from rgpt_ros.ros.launch_plan import reward_nodes
    from rgpt_ros.ros.live_session import LiveSession
    from rgpt_ros.synthetic.episodes import make_episode

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    episode = make_episode(args.kind, n_frames=args.frames, seed=args.seed, width=args.width, height=args.height)
    frames = [episode[i] for i in tqdm(range(len(episode)), desc="rendering episode", unit="frame", disable=None)]
    first = frames[0]
    regions = ";".join(f"{name}:{','.join(str(int(v)) for v in first.boxes[name])}" for name in ("fingertip", "cube"))
    plans = reward_nodes({"regions": regions, "pair": "fingertip,cube"})
    print(f"starting {[p.label for p in plans]} (logs in {out}/)")
    with LiveSession(plans, log_dir=str(out)) as session:
        player = session.player([PlayerFrame(f.rgb, f.depth, f.camera) for f in frames], args.rate)
        session.wait_ready(player)
        print(f"playing {len(frames)} frames at {args.rate:g} Hz ...")
        start = time.perf_counter()
        player.play()
        played = time.perf_counter() - start
        session.wait_for_rewards(len(frames), timeout=10.0)
        last = frames[-1]
        questions = ["How far is <fingertip> from <cube>?", "Is <fingertip> to the left of <cube>?",
                     "How tall is <cube>?", "If you are at <fingertip>, where will you find <cube>?"]
        answers = [(q, session.ask(q)) for q in questions]
        rewards = list(session.rewards)

    truth = {stamp: f.distance for stamp, f in zip(player.stamps_ns, frames)}
    records, errors, latencies, true_series = [], [], [], []
    for i, item in enumerate(sorted(rewards, key=lambda r: stamp_to_ns(r.msg.header.stamp))):
        msg, stamp = item.msg, stamp_to_ns(item.msg.header.stamp)
        published = player.publish_times_ns.get(stamp)
        if published is not None:
            latencies.append((item.received_ns - published) / 1e6)
        true_distance = truth.get(stamp, math.nan)
        true_series.append(true_distance)
        if msg.valid and not math.isnan(true_distance):
            errors.append(abs(msg.distance - true_distance))
        records.append(FrameRecord(frame=i, stamp_ns=stamp, distance_m=msg.distance, reward=msg.reward,
                                   valid=msg.valid, progress=msg.progress, success=msg.success, status=msg.status))
    plot = write_plot(records, out / "reward.png", title=f"rgpt_ros demo: {args.kind} episode, {len(records)} rewards",
                      truth_m=true_series)
    write_csv(records, out / "reward.csv")

    valid = [r for r in records if r.valid]
    print()
    print(f"{'frames played':<34}{len(frames):>10}   ({len(frames) / played:.1f} Hz achieved)")
    print(f"{'rewards received':<34}{len(records):>10}")
    print(f"{'valid rewards':<34}{len(valid):>10}   ({100.0 * len(valid) / max(1, len(records)):.1f} %)")
    if errors:
        print(f"{'distance MAE vs truth':<34}{100 * float(np.mean(errors)):>9.2f} cm")
    if latencies:
        print(f"{'publish -> reward latency median':<34}{float(np.median(latencies)):>9.1f} ms"
              f"   p99 {float(np.percentile(latencies, 99)):.1f} ms")
    if valid:
        d = np.array([r.distance_m for r in valid])
        print(f"{'distance start / min / end':<34}{d[0]:>9.3f} m / {d.min():.3f} m / {d[-1]:.3f} m "
              f"(truth {frames[0].distance:.3f} / {min(f.distance for f in frames):.3f} / {last.distance:.3f})")
    print("\nspatial questions on the latest frame (/rgpt/spatial_query, geometric engine):")
    for question, reply in answers:
        shown = reply.answer if reply.success else f"[failed] {reply.message}"
        print(f"  Q: {question}\n  A: {shown}")
    print(f"\nplot: {plot}\ncsv:  {out / 'reward.csv'}")
    return 0 if len(records) == len(frames) and valid else 1


if __name__ == "__main__":
    sys.exit(main())
