"""Synthetic SpatialRGPT-Bench-format datasets with exact ground truth, rendered RGB-D with sensor noise.

Scenes: 3-5 boxes and spheres (some stacked) on a floor or on a table top, seen by a camera pitched
10-50 degrees down from 0.5-1.7 m above the support, with occlusion, depth noise that grows with
distance, dropouts and flying pixels (``add_sensor_noise``). Every answer comes from the scene
definition, never from an engine:
- sizes, AABB centres, centres and nearest points: the exact object geometry in the canonical frame
  (the renderer's ``ObjectTruth``);
- ``distance_data``: the reference definition (mean of both directed nearest-neighbour distances) over
  the exact visible surfaces: the noise-free depth inside the exact instance masks, with the exact pose.
Qualitative questions are only asked when the truth has a clear margin, and quantitative ones when the
true value is at least 8 cm (below that, +-25 % is within the sensor noise).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import cv2
import numpy as np
from scipy.spatial import cKDTree

from rgpt_ros.geometry.depth import encode_depth_mm
from rgpt_ros.geometry.measure import clock_hour
from rgpt_ros.qa.answers import answer_text
from rgpt_ros.qa.bench import make_entry, write_json_atomic
from rgpt_ros.qa.categories import BENCH_CATEGORIES, CATEGORIES
from rgpt_ros.synthetic.noise import add_image_noise, add_sensor_noise
from rgpt_ros.synthetic.render import CameraPose, ObjectTruth, RenderedFrame, Scene, render
from rgpt_ros.synthetic.shapes import Box, Plane, Sphere
from rgpt_ros.synthetic.textures import checker_texture, noise_texture, wood_texture

MIN_QUANTITY_M = 0.08
MIN_VISIBLE_PX = 400

# Question wordings per category ({A}, {B} = Region [k]); bench-like and user-like paraphrases.
QUESTIONS: dict[str, tuple[str, ...]] = {
    "left_predicate": ("Is {A} to the left of {B}?", "Does {A} appear on the left side of {B}?",
                       "From where I stand, is {A} left of {B}?"),
    "right_predicate": ("Is {A} to the right of {B}?", "Can you confirm if {A} is positioned to the right of {B}?",
                        "Is {A} on the right-hand side of {B}?"),
    "above_predicate": ("Is {A} above {B}?", "Does {A} sit higher than {B}?", "Is {A} located over {B}?"),
    "below_predicate": ("Is {A} below {B}?", "Does {A} appear under {B}?", "Is {A} lower than {B}?"),
    "behind_predicate": ("Is {A} behind {B}?", "Is {A} further from the camera than {B}?",
                         "Is the position of {A} more distant than that of {B}?"),
    "front_predicate": ("Is {A} in front of {B}?", "Is {A} closer to the viewer than {B}?",
                        "Does {A} lie in front of {B}?"),
    "tall_predicate": ("Is {A} taller than {B}?", "Does {A} have a greater height compared to {B}?",
                       "Compared to {B}, is {A} taller?"),
    "short_predicate": ("Is {A} shorter than {B}?", "Does {A} have a lesser height than {B}?",
                        "Is {A} not as tall as {B}?"),
    "wide_predicate": ("Is {A} wider than {B}?", "Does {A} have a greater width compared to {B}?",
                       "Is {A} broader than {B}?"),
    "thin_predicate": ("Is {A} thinner than {B}?", "Is {A} narrower than {B}?", "Does {A} have a lesser width than {B}?"),
    "big_predicate": ("Is {A} bigger than {B}?", "Is {A} larger than {B}?", "Does {A} take up more space than {B}?"),
    "small_predicate": ("Is {A} smaller than {B}?", "Does {A} have a smaller size compared to {B}?",
                        "Is {A} smaller in size than {B}?"),
    "left_choice": ("Which is more to the left, {A} or {B}?", "Between {A} and {B}, which one appears on the left side?",
                    "Who is positioned more to the left, {A} or {B}?"),
    "right_choice": ("Which is more to the right, {A} or {B}?", "Between {A} and {B}, which one is further right?",
                     "Which of {A} and {B} is on the right?"),
    "above_choice": ("Which is above, {A} or {B}?", "Between {A} and {B}, which one is positioned higher?",
                     "Who is higher up, {A} or {B}?"),
    "below_choice": ("Which is below, {A} or {B}?", "Between {A} and {B}, which one is positioned lower?",
                     "Who is lower down, {A} or {B}?"),
    "tall_choice": ("Who is taller, {A} or {B}?", "Between {A} and {B}, which one has more height?",
                    "Which of these two, {A} or {B}, stands taller?"),
    "short_choice": ("Who is shorter, {A} or {B}?", "Between {A} and {B}, which one has less height?",
                     "Which of these two, {A} or {B}, is shorter?"),
    "distance_data": ("What is the distance between {A} and {B}?", "How far apart are {A} and {B}?",
                      "How far is {A} from {B}?", "Measure the distance from {A} to {B}."),
    "horizontal_distance_data": ("What is the horizontal distance between {A} and {B}?",
                                 "How far apart are {A} and {B} horizontally?", "Horizontal gap between {A} and {B}?"),
    "vertical_distance_data": ("What is the vertical distance between {A} and {B}?",
                               "How far apart are {A} and {B} vertically?", "How much higher or lower is {A} than {B}?"),
    "width_data": ("How wide is {A}?", "What is the width of {A}?", "Measure the width of {A}."),
    "height_data": ("How tall is {A}?", "What is the height of {A}?", "Find out how tall {A} is."),
    "direction": ("If you are at {A}, where will you find {B}?", "Standing at {A}, in which clock direction is {B}?",
                  "Where is {B} relative to {A}, as a clock direction?"),
}


@dataclass
class GroundTruth:
    """Exact answer of one question: exactly one of yes / choice / value (metres) / hour is set."""

    yes: Optional[bool] = None
    choice: Optional[int] = None
    value: Optional[float] = None
    hour: Optional[int] = None


def make_scene(rng: np.random.Generator) -> tuple[Scene, CameraPose]:
    """A random floor or table scene and a pitched camera looking at it."""
    on_table = rng.random() < 0.4
    support = float(rng.uniform(0.7, 0.8)) if on_table else 0.0
    scale = 0.45 if on_table else 1.0
    pitch = float(rng.uniform(10.0, 50.0))
    cam_height = float(rng.uniform(0.5, 1.0) if on_table else rng.uniform(0.8, 1.7))
    # aim the optical axis at a point 1.2-3 m ahead (closer for low pitch so objects stay in view)
    reach = cam_height / np.tan(np.radians(pitch))
    distance = float(np.clip(reach, 0.8 * scale + 0.6, 3.5 * scale + 0.8))
    pose = CameraPose((0.0, support + cam_height, 0.0), yaw_deg=float(rng.uniform(-20, 20)), pitch_deg=pitch,
                      roll_deg=float(rng.uniform(-3, 3)))
    forward = -np.array([np.sin(np.radians(pose.yaw_deg)), 0.0, np.cos(np.radians(pose.yaw_deg))])
    right = np.array([np.cos(np.radians(pose.yaw_deg)), 0.0, -np.sin(np.radians(pose.yaw_deg))])
    objects: list = []
    footprints: list[tuple[np.ndarray, float]] = []
    n_objects = int(rng.integers(3, 6))
    colours = rng.integers(30, 230, size=(n_objects, 3))
    for k in range(300):
        if len(objects) == n_objects:
            break
        size = rng.uniform(0.1, 0.6, 3) * scale
        ahead = rng.uniform(0.6, 1.5) * distance
        lateral = rng.uniform(-0.45, 0.45) * ahead
        ground = np.array([0.0, support, 0.0]) + forward * ahead + right * lateral
        radius = 0.5 * float(np.hypot(size[0], size[2]))
        stacked_on = None
        if objects and rng.random() < 0.3:
            stacked_on = int(rng.integers(0, len(objects)))
            base = objects[stacked_on]
            if not isinstance(base, Box):
                stacked_on = None
        if stacked_on is not None:
            base = objects[stacked_on]
            size[[0, 2]] = np.minimum(size[[0, 2]], 0.8 * base.size[[0, 2]])
            bottom = base.centre[1] + base.size[1] / 2
            centre = np.array([base.centre[0], bottom + size[1] / 2, base.centre[2]])
        else:
            if any(np.linalg.norm(ground[[0, 2]] - c) < radius + r + 0.05 for c, r in footprints):
                continue
            centre = ground + np.array([0.0, size[1] / 2, 0.0])
        name = f"obj{len(objects)}"
        colour = tuple(int(c) for c in colours[len(objects)])
        if stacked_on is None and rng.random() < 0.2:
            r = float(size[1] / 2)
            obj = Sphere(ground + np.array([0.0, r, 0.0]), r, colour=colour, name=name)
        else:
            obj = Box(centre, size, yaw_deg=float(rng.uniform(0, 90)), colour=colour, name=name,
                      texture=noise_texture(seed=int(rng.integers(1 << 30)), colour=colour))
        if stacked_on is None:
            footprints.append((ground[[0, 2]], radius))
        objects.append(obj)
    floor = Plane.horizontal(0.0, texture=checker_texture(seed=int(rng.integers(1 << 30))))
    table = None
    if on_table:
        centre = np.array([0.0, support, 0.0]) + forward * distance * 1.1
        table = Plane(point=centre, normal=(0.0, 1.0, 0.0), texture=wood_texture(seed=int(rng.integers(1 << 30))),
                      half_extent=(3.0 * scale + 1.0, 3.0 * scale + 1.0))
    # the "wall" slot holds the table top: the renderer paints it like any other plane
    return Scene(objects, plane=floor, wall=table), pose


def visible_surface(frame: RenderedFrame, index: int) -> np.ndarray:
    """Exact visible surface points of an object (noise-free depth in its exact mask) in the canonical frame."""
    rows, cols = np.nonzero(frame.mask(index) & np.isfinite(frame.depth))
    if len(rows) > 4000:
        pick = np.linspace(0, len(rows) - 1, 4000).astype(np.int64)
        rows, cols = rows[pick], cols[pick]
    optical = frame.camera.backproject(cols, rows, frame.depth[rows, cols]).astype(np.float64)
    pose = frame.pose
    world = optical @ pose.world_from_camera().T  # camera-centred world directions
    return world @ pose.world_from_canonical()


_RELATION_TRUTH: dict[str, Callable[[ObjectTruth], float]] = {
    "left": lambda o: -o.centre_canonical[0], "right": lambda o: o.centre_canonical[0],
    "above": lambda o: o.centre_canonical[1], "below": lambda o: -o.centre_canonical[1],
    "behind": lambda o: o.aabb_canonical[0, 2], "front": lambda o: -o.aabb_canonical[0, 2],
    "tall": lambda o: o.size_canonical[1], "short": lambda o: -o.size_canonical[1],
    "wide": lambda o: o.size_canonical[0], "thin": lambda o: -o.size_canonical[0],
    "big": lambda o: float(np.prod(o.size_canonical)), "small": lambda o: -float(np.prod(o.size_canonical)),
}


def _margin_ok(relation: str, a: ObjectTruth, b: ObjectTruth) -> bool:
    """True when the relation is clear-cut (the scorer's truth must not hinge on millimetres)."""
    sa, sb = _RELATION_TRUTH[relation](a), _RELATION_TRUTH[relation](b)
    if relation in ("big", "small"):
        return max(abs(sa), abs(sb)) > 1.4 * min(abs(sa), abs(sb))
    if relation in ("tall", "short", "wide", "thin"):
        return abs(sa - sb) > max(0.04, 0.2 * min(abs(sa), abs(sb)))
    return abs(sa - sb) > 0.08


def ground_truth(category: str, frame: RenderedFrame, i: int, j: int) -> Optional[GroundTruth]:
    """The exact answer for objects (i, j) (j unused for one-region categories); None when the question would
    be ill-posed (no clear margin, too small a quantity)."""
    cat = CATEGORIES[category]
    a, b = frame.objects[i], frame.objects[j]
    if cat.answer in ("predicate", "choice"):
        if not _margin_ok(cat.relation, a, b):
            return None
        holds = bool(_RELATION_TRUTH[cat.relation](a) > _RELATION_TRUTH[cat.relation](b))
        return GroundTruth(yes=holds) if cat.answer == "predicate" else GroundTruth(choice=0 if holds else 1)
    if cat.answer == "clock":
        vector = b.centre_canonical - a.centre_canonical
        return GroundTruth(hour=clock_hour(vector)) if np.hypot(vector[0], vector[2]) > 0.15 else None
    if cat.relation == "distance":
        pa, pb = visible_surface(frame, i), visible_surface(frame, j)
        value = float(np.concatenate([cKDTree(pb).query(pa)[0], cKDTree(pa).query(pb)[0]]).mean())
    elif cat.relation in ("horizontal_distance", "vertical_distance"):
        axis = 0 if cat.relation == "horizontal_distance" else 1
        centre = lambda o: o.aabb_canonical.mean(axis=0)[axis]  # noqa: E731
        value = float(abs(centre(a) - centre(b)))
    else:
        value = float(a.size_canonical[0 if cat.relation == "width" else 1])
    return GroundTruth(value=value) if value >= MIN_QUANTITY_M else None


def _fully_visible(frame: RenderedFrame, index: int) -> bool:
    """Enough visible pixels and all corners inside the image (truth is about the whole object)."""
    if np.count_nonzero(frame.mask(index)) < MIN_VISIBLE_PX:
        return False
    corners = frame.objects[index].corners_optical
    if np.any(corners[:, 2] < 0.2):
        return False
    uv = frame.camera.project(corners)
    return bool(np.all((uv[:, 0] >= 2) & (uv[:, 0] < frame.camera.width - 2) &
                       (uv[:, 1] >= 2) & (uv[:, 1] < frame.camera.height - 2)))


def scene_questions(frame: RenderedFrame, rng: np.random.Generator,
                    categories: tuple[str, ...] = BENCH_CATEGORIES) -> list[tuple[str, int, int, GroundTruth]]:
    """(category, i, j, truth) for up to one question per category over random well-posed object pairs."""
    usable = [k for k in range(len(frame.objects)) if _fully_visible(frame, k)]
    if len(usable) < 2:
        return []
    out = []
    for category in categories:
        for _ in range(8):
            i, j = (int(v) for v in rng.choice(usable, size=2, replace=False))
            truth = ground_truth(category, frame, i, j)
            if truth is not None:
                out.append((category, i, j, truth))
                break
    return out


def _loose(mask: np.ndarray, px: int) -> np.ndarray:
    if px <= 0:
        return mask
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)) > 0


def _entry(sample_id: str, template: str, category: str, truth: GroundTruth, role_masks: list[np.ndarray],
           image_file: str, depth_file: str, frame: RenderedFrame) -> dict:
    """Bench entry for roles A (= role_masks[0]) and B: regions are numbered in order of first mention, so the
    k-th ``<mask>`` of the human turn is the k-th region, as in the published bench."""
    two = CATEGORIES[category].regions == 2
    b_first = two and template.index("{B}") < template.index("{A}")
    number = {"A": 1 if b_first else 0, "B": 0 if b_first else 1}
    names = [f"Region [{number['A']}]", f"Region [{number['B']}]"]
    question = template.format(A=names[0], B=names[1])
    masks = ([role_masks[1], role_masks[0]] if b_first else role_masks) if two else role_masks[:1]
    answer = answer_text(category, names, yes=truth.yes, choice=truth.choice, value=truth.value, hour=truth.hour,
                         key="reference|" + sample_id)
    entry = make_entry(sample_id, image_file, frame.rgb.shape[0], frame.rgb.shape[1], question, answer, category,
                       CATEGORIES[category].kind, masks, depth_file, 0.001, frame.camera)
    entry["truth"] = {k: v for k, v in vars(truth).items() if v is not None}
    if truth.choice is not None:
        entry["truth"]["choice"] = str(number["A" if truth.choice == 0 else "B"])  # the chosen region's number
    return entry


def write_synthetic_bench(out_dir: str | os.PathLike, n_scenes: int = 20, seed: int = 0, *, width: int = 640,
                          height: int = 480, noisy: bool = True, mask_dilate_px: int = 0) -> Path:
    """Render ``n_scenes`` scenes and write ``bench.json`` (+ images/, depth/) under ``out_dir``; returns the JSON path.

    Each sample carries the RGB-D extension (16-bit millimetre depth PNG + intrinsics) and a ``truth``
    field with the exact answer (yes / choice / value in metres / hour). ``mask_dilate_px`` > 0 grows the
    region masks like a loose segmenter would (they then include background pixels around the object).
    """
    if n_scenes < 1:
        raise ValueError(f"n_scenes must be >= 1, got {n_scenes!r}")
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "depth").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    entries = []
    for s in range(n_scenes):
        questions: list = []
        for _attempt in range(10):
            scene, pose = make_scene(rng)
            frame = render(scene, pose, width=width, height=height)
            questions = scene_questions(frame, rng)
            if len(questions) >= 12:
                break
        depth = add_sensor_noise(frame.depth, rng) if noisy else frame.depth
        rgb = add_image_noise(frame.rgb, rng) if noisy else frame.rgb
        image_file, depth_file = f"images/{s:05d}.png", f"depth/{s:05d}.png"
        cv2.imwrite(str(out / image_file), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(out / depth_file), encode_depth_mm(depth))
        for category, i, j, truth in questions:
            sample_id = f"{seed}_{s:05d}_{category}"
            template = QUESTIONS[category][int(rng.integers(len(QUESTIONS[category])))]
            entry = _entry(sample_id, template, category, truth, [_loose(frame.mask(k), mask_dilate_px) for k in (i, j)],
                           image_file, depth_file, frame)
            entries.append(entry)
    return write_json_atomic(entries, out / "bench.json")


def main(argv: Optional[list[str]] = None) -> int:
    """``python -m rgpt_ros.synthetic.bench_scenes OUT_DIR [--scenes N] [--seed S]``: write a synthetic bench."""
    import argparse

    parser = argparse.ArgumentParser(description="Write a synthetic RGB-D SpatialRGPT-Bench with exact ground truth.")
    parser.add_argument("out_dir")
    parser.add_argument("--scenes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--mask-dilate-px", type=int, default=0, help="grow masks like a loose segmenter")
    args = parser.parse_args(argv)
    print(write_synthetic_bench(args.out_dir, args.scenes, args.seed, width=args.width, height=args.height,
                                mask_dilate_px=args.mask_dilate_px))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
