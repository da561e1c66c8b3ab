"""Benchmark of offline bag annotation: throughput per core and accuracy against ground truth.

Throughput: a 640x480 RGB-D reaching episode recorded as a bag; "read" = read + deserialise every
message (rosbags), "copy" = read every message and write it to a new bag (the floor of any annotation
that keeps the input topics, as ``rgpt-annotate`` must), "annotate" = the full ``annotate_bag`` (read, sync, decode, RewardPipeline with the
geometric engine, copy every message, write reward + regions). One thread (OpenCV/BLAS pinned),
medians over repeats, both measured in this run; frames/s per core = frames / CPU seconds.

Accuracy: generated reaching episodes (straight, pause-and-retreat, curved with a same-coloured
distractor), regions = true boxes on the first frame; annotated distance vs the analytic
fingertip-to-cube surface distance: Spearman, mean absolute error (cm), % valid frames.

    .venv/bin/python bench/bench_annotate.py [--frames 150] [--accuracy-frames 90] [--seeds 2]
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

from rgpt_ros.bags.annotate import AnnotationOptions, annotate_bag  # noqa: E402
from rgpt_ros.bags.reader import BagReader  # noqa: E402
from rgpt_ros.bags.recording import RGB_TOPIC, write_episode_bag  # noqa: E402
from rgpt_ros.bags.writer import AtomicBagWriter  # noqa: E402
from rgpt_ros.cli.annotate import load_config  # noqa: E402
from rgpt_ros.synthetic.episodes import CUBE, FINGERTIP, KINDS, make_episode  # noqa: E402

TARGETS = {"fps_per_core": 100.0, "ratio": 0.5, "spearman": 0.97, "mae_cm": 1.5, "valid_pct": 98.0}


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def read_all(bag: Path) -> int:
    """Read and deserialise every message; returns the number of colour frames."""
    frames = 0
    with BagReader(bag) as reader:
        for conn, _, raw in reader.messages():
            msg = reader.deserialize(raw, conn.msgtype)
            frames += conn.topic == RGB_TOPIC
            del msg
    return frames


def copy_all(bag: Path, out: Path, storage: str) -> None:
    """Read every message and write it unchanged to a new bag (no decoding, no annotation)."""
    with BagReader(bag) as reader, AtomicBagWriter(out, storage) as writer:
        conns = {id(c): writer.copy_connection(c, reader.typestore) for c in reader.connections}
        for conn, log_time, raw in reader.messages():
            writer.write(conns[id(conn)], log_time, raw)


def options_for(episode, config) -> AnnotationOptions:
    return AnnotationOptions(regions=episode[0].regions(), pair=(FINGERTIP, CUBE), config=config)


def throughput(args, config, work: Path) -> list[dict]:
    episode = make_episode("straight", n_frames=args.frames, seed=args.seed, width=640, height=480)
    rows = []
    for storage in args.storages:
        bag = work / f"throughput_{storage}"
        write_episode_bag(episode, bag, storage=storage)
        n = read_all(bag)  # warm-up: page cache, imports, typestores
        annotate_bag(bag, work / f"warmup_{storage}", options_for(episode, config))
        shutil.rmtree(work / f"warmup_{storage}")
        reads, copies, annots = [], [], []
        for repeat in range(args.repeats):
            reads.append(_timed(lambda: read_all(bag)))
            copies.append(_timed(lambda: copy_all(bag, work / f"copied_{storage}_{repeat}", storage)))
            shutil.rmtree(work / f"copied_{storage}_{repeat}")
            out = work / f"annotated_{storage}_{repeat}"
            annots.append(_timed(lambda: annotate_bag(bag, out, options_for(episode, config))))
            shutil.rmtree(out)
        read_wall = statistics.median(w for w, _ in reads)
        read_cpu = statistics.median(c for _, c in reads)
        copy_cpu = statistics.median(c for _, c in copies)
        ann_wall = statistics.median(w for w, _ in annots)
        ann_cpu = statistics.median(c for _, c in annots)
        rows.append({"storage": storage, "frames": n, "read_fps": n / read_wall, "read_fps_core": n / read_cpu,
                     "ann_fps": n / ann_wall, "ann_fps_core": n / ann_cpu, "ratio": read_cpu / ann_cpu,
                     "copy_fps_core": n / copy_cpu, "ratio_copy": copy_cpu / ann_cpu,
                     "ratio_wall": read_wall / ann_wall})
    return rows


def accuracy(args, config, work: Path) -> list[dict]:
    rows = []
    for kind in args.kinds:
        for seed in range(args.seed, args.seed + args.seeds):
            episode = make_episode(kind, n_frames=args.accuracy_frames, seed=seed, width=640, height=480)
            bag = work / f"acc_{kind}_{seed}"
            write_episode_bag(episode, bag, storage="mcap")
            summary = annotate_bag(bag, work / f"acc_{kind}_{seed}_out", options_for(episode, config))
            truth = episode.distances()
            index = {episode.stamp_ns(i): i for i in range(len(episode))}
            got = np.full(len(episode), np.nan)
            for record in summary.records:
                if record.valid:
                    got[index[record.stamp_ns]] = record.distance_m
            ok = np.isfinite(got)
            rho = spearmanr(got[ok], truth[ok]).statistic if ok.sum() > 2 else float("nan")
            mae = float(np.mean(np.abs(got[ok] - truth[ok]))) * 100 if ok.any() else float("nan")
            rows.append({"kind": kind, "seed": seed, "frames": len(episode), "spearman": float(rho), "mae_cm": mae,
                         "valid_pct": 100.0 * ok.sum() / len(episode)})
    return rows


def _mark(ok: bool) -> str:
    return "ok" if ok else "MISS"


def print_tables(speed: list[dict], acc: list[dict]) -> None:
    print("\nThroughput, 640x480 RGB-D, geometric engine, one thread (medians; 'core' = per CPU-second)")
    print(f"{'storage':8} {'frames':>6} {'read fps':>9} {'read fps/core':>13} {'annot fps':>9} "
          f"{'annot fps/core':>14} {'annot/read core':>15} {'annot/read wall':>15} {'copy fps/core':>13} "
          f"{'annot/copy core':>15}")
    for r in speed:
        print(f"{r['storage']:8} {r['frames']:6d} {r['read_fps']:9.0f} {r['read_fps_core']:13.0f} {r['ann_fps']:9.1f} "
              f"{r['ann_fps_core']:14.1f} {r['ratio']:15.3f} {r['ratio_wall']:15.3f} {r['copy_fps_core']:13.0f} "
              f"{r['ratio_copy']:15.3f}  "
              f"[>= {TARGETS['fps_per_core']:.0f}/core: {_mark(r['ann_fps_core'] >= TARGETS['fps_per_core'])}, "
              f">= {TARGETS['ratio']}: {_mark(r['ratio'] >= TARGETS['ratio'])}]")
    print("\nAccuracy vs ground truth (annotated distance vs true fingertip-to-cube surface distance)")
    print(f"{'kind':14} {'seed':>4} {'frames':>6} {'spearman':>8} {'MAE cm':>7} {'valid %':>7}")
    for r in acc:
        good = (r["spearman"] >= TARGETS["spearman"] and r["mae_cm"] <= TARGETS["mae_cm"]
                and r["valid_pct"] >= TARGETS["valid_pct"])
        print(f"{r['kind']:14} {r['seed']:4d} {r['frames']:6d} {r['spearman']:8.4f} {r['mae_cm']:7.2f} "
              f"{r['valid_pct']:7.1f}  {_mark(good)}")
    if acc:
        print(f"{'median':14} {'':4} {'':6} {statistics.median(r['spearman'] for r in acc):8.4f} "
              f"{statistics.median(r['mae_cm'] for r in acc):7.2f} "
              f"{statistics.median(r['valid_pct'] for r in acc):7.1f}")
    print(f"targets: spearman >= {TARGETS['spearman']}, MAE <= {TARGETS['mae_cm']} cm, "
          f"valid >= {TARGETS['valid_pct']} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=150, help="frames of the throughput episode")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--accuracy-frames", type=int, default=90)
    parser.add_argument("--seeds", type=int, default=2, help="episodes per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", nargs="+", default=list(KINDS))
    parser.add_argument("--storages", nargs="+", default=["mcap", "sqlite3"])
    parser.add_argument("--config", default=None, help="reward config (default config/reward.yaml)")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    config = load_config(args.config)
    work = Path(tempfile.mkdtemp(prefix="rgpt-bench-annotate-"))
    try:
        speed = [] if args.skip_throughput else throughput(args, config, work)
        acc = [] if args.skip_accuracy else accuracy(args, config, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_tables(speed, acc)


if __name__ == "__main__":
    main()
