"""Live pipeline soak benchmark: 640x480 RGB-D at 30 Hz over DDS with concurrent service calls.

    .venv/bin/python bench/bench_live.py --minutes 10      (source install/setup.bash first)

Runs the reward.launch.py node set (tracker, reward, spatial_qa) as processes, replays a generated
pause-and-retreat episode (seamless loops with advancing stamps), asks the spatial-question service
concurrently and prints: dropped reward frames, publish-to-reward latency (median, p99), service
latency, and node memory over time (RSS at start/end, max, slope).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--episode-frames", type=int, default=120)
    parser.add_argument("--query-hz", type=float, default=2.0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

    from rgpt_ros.ros.conversions import stamp_to_ns
    from rgpt_ros.ros.episode_player import PlayerFrame
    from rgpt_ros.ros.launch_plan import reward_nodes
    from rgpt_ros.ros.live_session import LiveSession
    from rgpt_ros.synthetic.episodes import make_episode

    episode = make_episode("pause_retreat", n_frames=args.episode_frames, seed=1, width=args.width, height=args.height)
    frames = [episode[i] for i in range(len(episode))]
    regions = ";".join(f"{k}:{','.join(str(int(v)) for v in frames[0].boxes[k])}" for k in ("fingertip", "cube"))
    loops = max(1, int(round(args.minutes * 60 * args.rate / len(frames))))
    total = loops * len(frames)
    plans = reward_nodes({"regions": regions})
    log_dir = Path("bench_out/live")
    log_dir.mkdir(parents=True, exist_ok=True)
    with LiveSession(plans, log_dir=str(log_dir)) as session:
        player = session.player([PlayerFrame(f.rgb, f.depth, f.camera) for f in frames], args.rate)
        session.wait_ready(player, subscribers=3)
        stop = threading.Event()
        queries: list[tuple[float, bool]] = []
        memory: list[tuple[float, list[float]]] = []

        def ask_loop() -> None:
            while not stop.is_set():
                start = time.perf_counter()
                try:
                    ok = session.ask("How far is <fingertip> from <cube>?", timeout=10.0).success
                except TimeoutError:
                    ok = False
                queries.append(((time.perf_counter() - start) * 1e3, ok))
                stop.wait(max(0.0, 1.0 / args.query_hz - (time.perf_counter() - start)))

        def memory_loop() -> None:
            t0 = time.monotonic()
            while not stop.is_set():
                memory.append((time.monotonic() - t0, [rss_mb(p.pid) for p in session.processes]))
                stop.wait(5.0)

        threads = [threading.Thread(target=ask_loop, daemon=True), threading.Thread(target=memory_loop, daemon=True)]
        for thread in threads:
            thread.start()
        print(f"playing {total} frames ({args.minutes:g} min at {args.rate:g} Hz, {args.width}x{args.height}) ...",
              flush=True)
        start = time.perf_counter()
        player.play(loops=loops)
        played_s = time.perf_counter() - start
        session.wait_for_rewards(total, timeout=10.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        memory.append((played_s, [rss_mb(p.pid) for p in session.processes]))
        rewards = list(session.rewards)

    stamps = [stamp_to_ns(r.msg.header.stamp) for r in rewards]
    latencies = np.array([(r.received_ns - player.publish_times_ns[s]) / 1e6
                          for r, s in zip(rewards, stamps) if s in player.publish_times_ns])
    unique = len(set(stamps))
    valid = sum(r.msg.valid for r in rewards)
    q_ms = np.array([q for q, ok in queries if ok])
    print()
    print(f"| metric | value |\n| --- | --- |")
    print(f"| frames published | {total} ({total / played_s:.1f} Hz achieved) |")
    print(f"| reward frames received | {unique} |")
    print(f"| dropped reward frames | {total - unique} |")
    print(f"| valid rewards | {valid} ({100.0 * valid / max(1, len(rewards)):.1f} %) |")
    print(f"| publish->reward latency median | {np.median(latencies):.1f} ms |")
    print(f"| publish->reward latency p99 | {np.percentile(latencies, 99):.1f} ms |")
    print(f"| service calls (ok / total) | {len(q_ms)} / {len(queries)} |")
    if len(q_ms):
        print(f"| service latency median / p99 | {np.median(q_ms):.1f} / {np.percentile(q_ms, 99):.1f} ms |")
    if memory:
        times = np.array([t for t, _ in memory])
        rss = np.array([m for _, m in memory])
        for i, plan in enumerate(plans):
            series = rss[:, i]
            slope = np.polyfit(times, series, 1)[0] * 60 if len(times) > 2 else float("nan")
            print(f"| {plan.name} RSS start / end / max | {series[0]:.0f} / {series[-1]:.0f} / {series.max():.0f} MB "
                  f"(slope {slope:+.2f} MB/min) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
