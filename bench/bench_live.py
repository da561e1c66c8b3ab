"""Live pipeline soak benchmark: 640x480 RGB-D at 30 Hz over DDS with concurrent service calls.

    .venv/bin/python bench/bench_live.py --minutes 10      (source install/setup.bash first)

Runs the processes reward.launch.py starts (tracker + reward container and spatial_qa; --separate: one
process per node; --compare: both, one after the other), replays a generated pause-and-retreat episode
(seamless loops with advancing stamps), asks the spatial-question service concurrently and prints:
dropped reward frames, publish-to-reward latency (median, p99), service latency, and node memory over
time (RSS at start/end, max, slope, and the heap's share of it; the rest is mapped DDS shared memory).
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


def rss_mb(pid: int) -> tuple[float, float]:
    """Resident memory of a process and the anonymous (heap) part of it, in MB; the rest is mapped files and
    shared memory (DDS segments), whose pages count once touched."""
    values = {"VmRSS:": float("nan"), "RssAnon:": float("nan")}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key = line.split(maxsplit=1)[0] if line else ""
            if key in values:
                values[key] = int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return values["VmRSS:"], values["RssAnon:"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--episode-frames", type=int, default=120)
    parser.add_argument("--query-hz", type=float, default=2.0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--separate", action="store_true",
                      help="one process per node (reward.launch.py composed:=false) instead of the container")
    mode.add_argument("--compare", action="store_true",
                      help="run the container, then separate processes, for --minutes each, and compare them")
    args = parser.parse_args()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")

    from rgpt_ros.synthetic.episodes import make_episode

    episode = make_episode("pause_retreat", n_frames=args.episode_frames, seed=1, width=args.width, height=args.height)
    frames = [episode[i] for i in range(len(episode))]
    reference_ms = tracker_reference_ms(frames)
    print(f"machine speed reference: tracker update offline, 1 thread: {reference_ms:.2f} ms/frame")
    modes = [False, True] if args.compare else [args.separate]
    results = [soak(args, frames, separate) for separate in modes]
    if args.compare:
        print("\n| launch | latency median | p99 | dropped | CPU of the node processes |")
        print("| --- | --- | --- | --- | --- |")
        for separate, result in zip(modes, results):
            print(f"| {'composed:=false' if separate else 'composed:=true'} | {result['median']:.1f} ms | "
                  f"{result['p99']:.1f} ms | {result['dropped']} | {result['node_cpu']:.0f} % |")
        print(f"separate / container median latency: {results[1]['median'] / results[0]['median']:.2f}x")
    return 0


def soak(args: argparse.Namespace, frames: list, separate: bool) -> dict[str, float]:
    """Play ``frames`` in loops for ``args.minutes`` against the reward.launch.py processes (the container, or
    one process per node), print the table, write the plot and raw numbers; returns the headline numbers."""
    from rgpt_ros.ros.conversions import stamp_to_ns
    from rgpt_ros.ros.episode_player import PlayerFrame
    from rgpt_ros.ros.launch_plan import reward_nodes
    from rgpt_ros.ros.live_session import LiveSession

    regions = ";".join(f"{k}:{','.join(str(int(v)) for v in frames[0].boxes[k])}" for k in ("fingertip", "cube"))
    loops = max(1, int(round(args.minutes * 60 * args.rate / len(frames))))
    total = loops * len(frames)
    plans = reward_nodes({"regions": regions, "composed": "false" if separate else "true"})
    log_dir = Path("bench_out/live")
    log_dir.mkdir(parents=True, exist_ok=True)
    name = "latency_separate" if separate else "latency"
    with LiveSession(plans, log_dir=str(log_dir)) as session:
        player = session.player([PlayerFrame(f.rgb, f.depth, f.camera) for f in frames], args.rate)
        region_arrivals: dict[int, int] = {}  # stamp -> arrival of the tracker's RegionArray here
        from rgpt_ros.msg import RegionArray
        from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS

        session.node.create_subscription(
            RegionArray, "/rgpt/regions",
            lambda msg: region_arrivals.setdefault(stamp_to_ns(msg.header.stamp), time.time_ns()), RELIABLE_OUTPUT_QOS)
        session.wait_ready(player)
        stop = threading.Event()
        queries: list[tuple[float, bool]] = []
        query_starts_ns: list[int] = []
        memory: list[tuple[float, list[tuple[float, float]]]] = []  # (s, [(RSS, anonymous RSS) per process])

        def ask_loop() -> None:
            while not stop.is_set():
                start = time.perf_counter()
                try:
                    ok = session.ask("How far is <fingertip> from <cube>?", timeout=10.0).success
                except TimeoutError:
                    ok = False
                queries.append(((time.perf_counter() - start) * 1e3, ok))
                query_starts_ns.append(time.time_ns() - int(queries[-1][0] * 1e6))
                stop.wait(max(0.0, 1.0 / args.query_hz - (time.perf_counter() - start)))

        def memory_loop() -> None:
            t0 = time.monotonic()
            while not stop.is_set():
                memory.append((time.monotonic() - t0, [rss_mb(p.pid) for p in session.processes]))
                stop.wait(5.0)

        threads = [threading.Thread(target=ask_loop, daemon=True), threading.Thread(target=memory_loop, daemon=True)]
        for thread in threads:
            thread.start()
        print(f"\n{'one process per node' if separate else 'tracker + reward container'}: "
              f"playing {total} frames ({args.minutes:g} min at {args.rate:g} Hz, {args.width}x{args.height}) ...",
              flush=True)
        start = time.perf_counter()
        cpu_start = [cpu_seconds(p.pid) for p in session.processes] + [time.process_time()]
        player.play(loops=loops)
        played_s = time.perf_counter() - start
        cpu_used = [cpu_seconds(p.pid) for p in session.processes] + [time.process_time()]
        cpu_pct = [100.0 * (b - a) / played_s for a, b in zip(cpu_start, cpu_used)]
        session.wait_for_rewards(total, timeout=10.0)
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        memory.append((played_s, [rss_mb(p.pid) for p in session.processes]))
        rewards = list(session.rewards)

    stamps = [stamp_to_ns(r.msg.header.stamp) for r in rewards]
    published = [(player.publish_times_ns[s], r.received_ns) for r, s in zip(rewards, stamps)
                 if s in player.publish_times_ns]
    latencies = np.array([(got - sent) / 1e6 for sent, got in published])
    memory_s, memory_both = np.array([t for t, _ in memory]), np.array([m for _, m in memory])
    memory_mb, anon_mb = memory_both[:, :, 0], memory_both[:, :, 1]
    np.savez(log_dir / f"{name}.npz", sent_ns=[s for s, _ in published], latency_ms=latencies,
             query_start_ns=query_starts_ns, query_ms=[q for q, _ in queries], memory_s=memory_s,
             memory_rss_mb=memory_mb, memory_anon_mb=anon_mb, node_names=[plan.label for plan in plans])
    plot_latency(log_dir / f"{name}.png", np.array([sent for sent, _ in published]), latencies,
                 np.array(query_starts_ns), memory_s, memory_mb, anon_mb, [plan.label for plan in plans])
    unique = len(set(stamps))
    valid = sum(r.msg.valid for r in rewards)
    q_ms = np.array([q for q, ok in queries if ok])
    print()
    print("| metric | value |\n| --- | --- |")
    print(f"| frames published | {total} ({total / played_s:.1f} Hz achieved) |")
    print(f"| reward frames received | {unique} |")
    print(f"| dropped reward frames | {total - unique} |")
    print(f"| valid rewards | {valid} ({100.0 * valid / max(1, len(rewards)):.1f} %) |")
    print(f"| publish->reward latency median | {np.median(latencies):.1f} ms |")
    print(f"| publish->reward latency p99 | {np.percentile(latencies, 99):.1f} ms |")
    stages = np.array([((region_arrivals[s] - player.publish_times_ns[s]) / 1e6,
                        (r.received_ns - region_arrivals[s]) / 1e6)
                       for r, s in zip(rewards, stamps) if s in player.publish_times_ns and s in region_arrivals])
    if len(stages) and separate:  # in the container the reward is published before the regions go out
        for stage, column in (("publish->tracker regions", 0), ("tracker regions->reward", 1)):
            print(f"| {stage} median / p99 | {np.median(stages[:, column]):.1f} / "
                  f"{np.percentile(stages[:, column], 99):.1f} ms |")
    print(f"| frames over 33 ms (one camera period) | {int((latencies > 1000 / args.rate).sum())} |")
    print(f"| service calls (ok / total) | {len(q_ms)} / {len(queries)} |")
    if len(q_ms):
        print(f"| service latency median / p99 | {np.median(q_ms):.1f} / {np.percentile(q_ms, 99):.1f} ms |")
    if memory:
        # The first minute fills frame buffers and caches; "flat" is judged on the rest of the run.
        warm = memory_s >= 60.0 if (memory_s >= 60.0).sum() > 2 else np.ones(len(memory_s), bool)

        def slope(series: np.ndarray) -> float:
            return np.polyfit(memory_s[warm], series[warm], 1)[0] * 60 if warm.sum() > 2 else float("nan")

        half = int(np.searchsorted(memory_s, memory_s[-1] / 2))  # a plateau after a step shows here, not in the slope
        for i, plan in enumerate(plans):
            series = memory_mb[:, i]
            heap = anon_mb[warm, i]
            print(f"| {plan.label} RSS start / after warm-up / end / max | {series[0]:.0f} / {series[warm][0]:.0f} / "
                  f"{series[-1]:.0f} / {series.max():.0f} MB (slope after warm-up {slope(series):+.2f} MB/min, "
                  f"of which heap {slope(anon_mb[:, i]):+.2f}; change over the second half "
                  f"{series[-1] - series[half]:+.1f} MB; heap after warm-up {heap.min():.0f}-{heap.max():.0f} MB) |")
    cpu = ", ".join(f"{plan.label} {pct:.0f} %" for plan, pct in zip(plans, cpu_pct))
    print(f"| CPU while playing (100 % = one core) | {cpu}, this process (camera + observer) {cpu_pct[-1]:.0f} % |")
    print(f"\nlatency over time: {log_dir / f'{name}.png'}")
    return {"median": float(np.median(latencies)), "p99": float(np.percentile(latencies, 99)),
            "dropped": total - unique, "node_cpu": float(sum(cpu_pct[:-1]))}


def tracker_reference_ms(frames) -> float:
    """Median ms per frame of the tracker alone on the played episode (one OpenCV thread), measured before the run:
    the same soak on a slower or busier machine gives proportionally larger latencies, and this tells which."""
    import cv2

    from rgpt_ros.tracking import MultiRegionTracker

    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    tracker = MultiRegionTracker()
    tracker.set_regions(frames[0].rgb, frames[0].regions())
    times = []
    for frame in frames[1:]:
        start = time.perf_counter()
        tracker.update(frame.rgb)
        times.append(time.perf_counter() - start)
    cv2.setNumThreads(threads)
    return 1e3 * float(np.median(times))


def plot_latency(path: Path, sent_ns: np.ndarray, latency_ms: np.ndarray, query_ns: np.ndarray,
                 memory_s: np.ndarray, memory_mb: np.ndarray, anon_mb: np.ndarray, names: list[str]) -> None:
    """Publish->reward latency per frame over the run (service calls marked), its histogram, and node RSS
    (solid) with its heap part (dashed; the rest is DDS shared memory, counted as its pages get touched)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = sent_ns.min() if len(sent_ns) else 0
    fig, (top, bottom, rss) = plt.subplots(3, 1, figsize=(10, 8.5), gridspec_kw={"height_ratios": [3, 2, 2]})
    top.plot((sent_ns - t0) / 1e9, latency_ms, ".", ms=2, label="frame")
    if len(query_ns):  # one tick per service call along the bottom (full-height lines hid the frames)
        top.plot((query_ns - t0) / 1e9, np.zeros(len(query_ns)), "|", color="tab:red", ms=8, label="service call")
    top.axhline(np.percentile(latency_ms, 99), color="k", ls="--", lw=0.8, label="p99")
    top.set(xlabel="time (s)", ylabel="publish -> reward (ms)", title="Live pipeline latency")
    top.legend(loc="upper right")
    bottom.hist(latency_ms, bins=100, log=True)
    bottom.set(xlabel="latency (ms)", ylabel="frames")
    for i, name in enumerate(names):
        line, = rss.plot(memory_s, memory_mb[:, i] - memory_mb[0, i],
                         label=f"{name} ({memory_mb[0, i]:.0f} MB at start)")
        rss.plot(memory_s, anon_mb[:, i] - anon_mb[0, i], "--", color=line.get_color(), label=f"{name} heap")
    rss.set(xlabel="time (s)", ylabel="RSS change (MB)")
    rss.legend(loc="center right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
