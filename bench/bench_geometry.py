"""Geometric engine benchmark: accuracy on synthetic RGB-D bench scenes and per-frame speed on one core.

    .venv/bin/python bench/bench_geometry.py [--scenes 40] [--seed 0] [--frames 60]

Accuracy: renders --scenes noisy RGB-D scenes (pitched cameras, floors and tables, occlusion, depth noise
growing with distance, dropouts, flying pixels) with exact ground truth, answers every question with the
geometric engine (gravity estimated from the depth: no up-vector given) and prints the per-category table.
Loose masks: the same with masks dilated by --dilate-px (a loose segmenter), default engine options vs the
options meant for loose masks.
Speed, per 640x480 frame with two regions, single thread: decoding the 16-bit depth image (the reference),
the gravity estimate (once per frame), "distance + relations" (both region clouds + closest/mean-NN/centroid
distances + all relations + axis distances + clock, gravity cached) and five free-text questions through
``engine.answer`` (clouds built once, gravity cached). Median over --frames frames of the best of 3 runs.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from rgpt_ros.cli.bench import run_bench  # noqa: E402
from rgpt_ros.engines.geometric import GeometricEngine  # noqa: E402
from rgpt_ros.frame import RGBDFrame  # noqa: E402
from rgpt_ros.geometry import measure  # noqa: E402
from rgpt_ros.geometry.depth import decode_depth, encode_depth_mm  # noqa: E402
from rgpt_ros.geometry.gravity import estimate_gravity  # noqa: E402
from rgpt_ros.geometry.regions import Region  # noqa: E402
from rgpt_ros.geometry.scene import SceneGeometry  # noqa: E402
from rgpt_ros.qa.bench import load_bench  # noqa: E402
from rgpt_ros.qa.scoring import format_table, summarise  # noqa: E402
from rgpt_ros.synthetic.bench_scenes import make_scene, write_synthetic_bench  # noqa: E402
from rgpt_ros.synthetic.noise import add_sensor_noise  # noqa: E402
from rgpt_ros.synthetic.render import render  # noqa: E402

cv2.setNumThreads(1)


def accuracy(n_scenes: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        path = write_synthetic_bench(tmp, n_scenes, seed)
        t1 = time.perf_counter()
        samples = load_bench(path)
        scores = [score for _row, score in run_bench(samples, GeometricEngine(), progress=False)]
        t2 = time.perf_counter()
    print(f"Accuracy on {n_scenes} synthetic noisy RGB-D scenes ({len(samples)} questions; rendering {t1 - t0:.1f} s, "
          f"answering {t2 - t1:.1f} s incl. image I/O)")
    print(format_table(summarise(scores)))


LOOSE_OPTIONS = ({}, {"edge_px": 1}, {"erode_px": 2, "largest_cluster": True})


def loose_masks(n_scenes: int, seed: int, dilate_px: int) -> None:
    """Masks grown by ``dilate_px`` (a loose segmenter): default engine vs the options meant for loose masks."""
    with tempfile.TemporaryDirectory() as tmp:
        samples = load_bench(write_synthetic_bench(tmp, n_scenes, seed, mask_dilate_px=dilate_px))
        print(f"\nMasks dilated by {dilate_px} px ({n_scenes} scenes, {len(samples)} questions)")
        print(f"{'engine options':<44}{'qualitative%':>13}{'quantitative%':>14}{'abs-rel':>9}")
        for options in LOOSE_OPTIONS:
            rows = {r.name: r for r in summarise(s for _, s in run_bench(samples, GeometricEngine(**options),
                                                                            progress=False))}
            print(f"{str(options or 'defaults'):<44}{rows['[qualitative]'].success:>13.1f}"
                  f"{rows['[quantitative]'].success:>14.1f}{rows['[quantitative]'].abs_rel:>9.3f}")


def _frames(n: int, seed: int):
    """(16-bit depth PNG bytes, RGBDFrame without up, two regions) for n distinct scenes with 2+ visible objects."""
    rng = np.random.default_rng(seed)
    while n > 0:
        scene, pose = make_scene(rng)
        rendered = render(scene, pose)
        visible = [k for k in range(len(rendered.objects)) if rendered.mask(k).sum() > 500]
        if len(visible) < 2:
            continue
        depth = add_sensor_noise(rendered.depth, rng)
        raw = encode_depth_mm(depth)
        frame = RGBDFrame(rendered.rgb, decode_depth(raw, "16UC1"), rendered.camera)
        regions = [Region("a", mask=rendered.mask(visible[0])), Region("b", mask=rendered.mask(visible[1]))]
        n -= 1
        yield raw, frame, regions


def _best_ms(fn, repeats: int = 1) -> float:
    """Best of ``repeats`` wall times in ms (filters out scheduler noise on a shared machine)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * min(times)


def speed(n_frames: int, seed: int) -> None:
    decode, gravity, pair, questions = [], [], [], []
    engine = GeometricEngine()  # gravity set per frame below (cached estimate)
    texts = ["Is <a> to the left of <b>?", "How far is <a> from <b>?", "Which is taller, <a> or <b>?",
             "What is the vertical distance between <a> and <b>?", "If you are at <a>, where will you find <b>?"]
    for raw, frame, regions in _frames(n_frames, seed):
        decode.append(_best_ms(lambda: decode_depth(raw, "16UC1"), 3))
        gravity.append(_best_ms(lambda: estimate_gravity(frame.depth, frame.camera), 3))
        g = SceneGeometry(frame).gravity  # the per-frame cache the timed steps reuse

        def distance_and_relations() -> None:
            s = SceneGeometry(frame, gravity=g)
            a, b = s.cloud(regions[0]), s.cloud(regions[1])
            for metric in measure.DISTANCE_METRICS:
                measure.distance(a, b, metric)
            measure.relations(a, b)
            measure.horizontal_distance(a, b), measure.vertical_distance(a, b), measure.clock_direction(a, b)

        def five_questions() -> None:
            engine.gravity, engine._scene = g, None  # fresh clouds, cached gravity
            for q in texts:
                engine.answer(frame, regions, q)

        pair.append(_best_ms(distance_and_relations, 3))
        questions.append(_best_ms(five_questions, 3))
    d, g, p, q = (float(np.median(x)) for x in (decode, gravity, pair, questions))
    print(f"\nSpeed per 640x480 frame, two regions, one thread (median of {n_frames} frames, best of 3 per frame)")
    print(f"{'step':<48}{'median ms':>10}{'x decode':>10}")
    for name, value in (("decode 16UC1 depth (reference)", d), ("gravity estimate (once per frame)", g),
                        ("distance + relations (2 clouds, gravity cached)", p),
                        ("5 free-text questions via engine.answer", q)):
        print(f"{name:<48}{value:>10.2f}{value / d:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, default=40)
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--loose-scenes", type=int, default=20, help="scenes for the loose-mask run (0 = skip)")
    parser.add_argument("--dilate-px", type=int, default=4)
    args = parser.parse_args()
    accuracy(args.scenes, args.seed)
    if args.loose_scenes > 0:
        loose_masks(args.loose_scenes, args.seed + 100, args.dilate_px)
    speed(args.frames, args.seed + 1)


if __name__ == "__main__":
    main()
