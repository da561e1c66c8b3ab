"""The geometric engine end to end on a rendered, noisy, pitched RGB-D frame: every category, every refusal."""

import numpy as np
import pytest

from rgpt_ros.engines import make_engine
from rgpt_ros.engines.base import SpatialEngine
from rgpt_ros.engines.geometric import GeometricEngine, answer_category
from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.regions import Region, mask_to_rle
from rgpt_ros.geometry.scene import NoDepthError, SceneGeometry
from rgpt_ros.qa.categories import BENCH_CATEGORIES
from rgpt_ros.qa.units import parse_clock, parse_length
from rgpt_ros.synthetic import Box, CameraPose, Scene, add_sensor_noise, d435_intrinsics, render
from rgpt_ros.synthetic.bench_scenes import visible_surface


@pytest.fixture(scope="module")
def rendered():
    cube = Box((-0.4, 0.15, -2.2), (0.4, 0.3, 0.4), name="cube")
    tower = Box((0.5, 0.35, -2.8), (0.2, 0.7, 0.2), name="tower")
    frame = render(Scene([cube, tower]), CameraPose((0.0, 1.2, 0.0), pitch_deg=20.0), d435_intrinsics(320, 240))
    depth = add_sensor_noise(frame.depth, np.random.default_rng(7))
    rgbd = RGBDFrame(frame.rgb, depth, frame.camera)  # no up-vector: gravity comes from the floor
    regions = [Region("cube", mask=frame.mask(0)), Region("tower", rle=mask_to_rle(frame.mask(1)))]
    return frame, rgbd, regions


# (question, check) for every bench category; the truth is the scene definition above
QUESTIONS = {
    "left_predicate": ("Is <cube> to the left of <tower>?", True),
    "right_predicate": ("Is <cube> to the right of <tower>?", False),
    "above_predicate": ("Is <tower> above <cube>?", True),
    "below_predicate": ("Is <tower> below <cube>?", False),
    "behind_predicate": ("Is <tower> behind <cube>?", True),
    "front_predicate": ("Is <tower> in front of <cube>?", False),
    "tall_predicate": ("Is <region1> taller than <region0>?", True),
    "short_predicate": ("Is <cube> shorter than <tower>?", True),
    "wide_predicate": ("Is <cube> wider than <tower>?", True),
    "thin_predicate": ("Is <cube> thinner than <tower>?", False),
    "big_predicate": ("Is <tower> bigger than <cube>?", False),
    "small_predicate": ("Is <tower> smaller than <cube>?", True),
    "left_choice": ("Which is more to the left, <tower> or <cube>?", "cube"),
    "right_choice": ("Which is more to the right, <mask> or <mask>?", "tower"),
    "above_choice": ("Which is higher, <cube> or <tower>?", "tower"),
    "below_choice": ("Which one is lower down, <cube> or <tower>?", "cube"),
    "tall_choice": ("Who is taller, Region [0] or Region [1]?", "tower"),
    "short_choice": ("Between <cube> and <tower>, which one has less height?", "cube"),
    "distance_data": ("How far is <cube> from <tower>?", "distance"),
    "horizontal_distance_data": ("What is the horizontal distance between <cube> and <tower>?", 0.9),
    "vertical_distance_data": ("How far apart are <cube> and <tower> vertically?", 0.2),
    "width_data": ("How wide is <cube>?", 0.4),
    "height_data": ("What is the height of Region [1]?", 0.7),
    "direction": ("If you are at <cube>, where will you find <tower>?", 2),
}


def test_every_bench_category_is_covered():
    assert sorted(QUESTIONS) == sorted(BENCH_CATEGORIES) and len(BENCH_CATEGORIES) == 24


@pytest.mark.parametrize("category", sorted(QUESTIONS))
def test_engine_answers_every_category_correctly(rendered, category):
    frame, rgbd, regions = rendered
    question, truth = QUESTIONS[category]
    answer = GeometricEngine().answer(rgbd, regions, question)
    assert answer.success, answer.message
    assert answer.category == category and answer.source == "geometric"
    assert answer.details["gravity_source"] == "plane"
    if isinstance(truth, bool):
        assert answer.yes is truth
        assert answer.text.startswith(("Yes", "Indeed", "Correct") if truth else ("No", "Incorrect"))
    elif isinstance(truth, str) and truth != "distance":
        assert answer.choice == truth
    elif category == "direction":
        assert answer.unit == "oclock" and abs(answer.value - truth) <= 1 and parse_clock(answer.text) == answer.value
    else:
        if truth == "distance":
            a, b = visible_surface(frame, 0), visible_surface(frame, 1)
            from scipy.spatial import cKDTree
            truth = float(np.concatenate([cKDTree(b).query(a)[0], cKDTree(a).query(b)[0]]).mean())
        assert answer.unit == "m"
        assert answer.value == pytest.approx(truth, rel=0.12)
        assert parse_length(answer.text) == pytest.approx(answer.value, rel=0.01)


def test_answer_text_names_regions_like_the_question(rendered):
    _, rgbd, regions = rendered
    engine = GeometricEngine()
    assert "cube" in engine.answer(rgbd, regions, "Is <cube> to the left of <tower>?").text
    assert "Region [0]" in engine.answer(rgbd, regions, "Is Region [0] to the left of Region [1]?").text
    # Region [k] means the k-th region even when mentioned out of order
    out_of_order = engine.answer(rgbd, regions, "Which is more to the left, Region [1] or Region [0]?")
    assert out_of_order.choice == "cube" and "Region [0]" in out_of_order.text


def test_answer_many_reuses_the_frame_and_is_deterministic(rendered):
    _, rgbd, regions = rendered
    engine = make_engine("geometric")
    assert isinstance(engine, SpatialEngine)
    qs = ["How tall is <tower>?", "Is <cube> behind <tower>?", "How tall is <tower>?"]
    answers = engine.answer_many(rgbd, regions, qs)
    assert answers[0].text == answers[2].text and answers[1].yes is False
    assert engine.scene(rgbd) is engine.scene(rgbd)


def test_given_tilt_or_up_vector_skips_the_plane_estimate(rendered):
    frame, rgbd, regions = rendered
    tilted = GeometricEngine(pitch_deg=20.0).answer(rgbd, regions, "How tall is <tower>?")
    assert tilted.details["gravity_source"] == "tilt" and tilted.value == pytest.approx(0.7, rel=0.12)
    with_up = RGBDFrame(rgbd.rgb, rgbd.depth, rgbd.camera, up=frame.up)
    assert GeometricEngine().answer(with_up, regions, "How tall is <tower>?").details["gravity_source"] == "given"
    assert GeometricEngine(up=frame.up).answer(rgbd, regions, "How tall is <tower>?").details["gravity_source"] == "given"


def test_answer_category_for_training_data(rendered):
    _, rgbd, regions = rendered
    scene = SceneGeometry(rgbd)
    for category in BENCH_CATEGORIES:
        pair = regions[:1] if category in ("width_data", "height_data") else regions
        answer = answer_category(scene, category, pair, names=["the cube", "the tower"][:len(pair)])
        assert answer.success and answer.category == category
        assert "the cube" in answer.text or (category.endswith("_choice") and "the tower" in answer.text)
    with pytest.raises(ValueError, match="takes 1 region"):
        answer_category(scene, "width_data", regions)


@pytest.mark.parametrize("question, match", [
    ("What color is <cube>?", "not one of the spatial questions"),
    ("Is <cube> to the left?", "not one of the spatial questions"),
    ("How many boxes are there?", "not one of the spatial questions"),
    ("Is <ghost> left of <cube>?", "unknown region id <ghost>"),
    ("Is <region5> left of <cube>?", "names region 5"),
])
def test_unanswerable_questions_are_refused_honestly(rendered, question, match):
    _, rgbd, regions = rendered
    answer = GeometricEngine().answer(rgbd, regions, question)
    assert not answer.success and match in answer.message
    assert answer.text.startswith("I cannot answer") and answer.value is None and answer.yes is None


def test_regions_or_frames_without_depth_are_refused(rendered):
    _, rgbd, regions = rendered
    no_depth = RGBDFrame(rgbd.rgb, None, rgbd.camera)
    answer = GeometricEngine().answer(no_depth, regions, "How tall is <tower>?")
    assert not answer.success and "no depth" in answer.message and answer.category == "height_data"
    with pytest.raises(NoDepthError):
        SceneGeometry(no_depth)
    holes = rgbd.depth.copy()
    holes[regions[0].mask] = np.nan
    answer = GeometricEngine().answer(RGBDFrame(rgbd.rgb, holes, rgbd.camera), regions, "How wide is <cube>?")
    assert not answer.success and "'cube': only 0 of" in answer.message
    outside = [Region("far", box=(1000, 1000, 1010, 1010)), regions[1]]
    answer = GeometricEngine().answer(rgbd, outside, "Is <far> left of <tower>?")
    assert not answer.success and "no pixels inside" in answer.message


def test_a_bad_up_vector_in_the_frame_is_refused(rendered):
    _, rgbd, regions = rendered
    bad = RGBDFrame(rgbd.rgb, rgbd.depth, rgbd.camera, up=np.zeros(3))
    answer = GeometricEngine().answer(bad, regions, "How tall is <tower>?")
    assert not answer.success and "up-vector" in answer.message


def test_level_camera_fallback_is_flagged_in_the_answer():
    from rgpt_ros.geometry.camera import CameraIntrinsics
    camera = CameraIntrinsics(500.0, 500.0, 159.5, 119.5, 320, 240)
    depth = np.full((240, 320), 3.0, np.float32)  # a wall only: no floor to take gravity from
    depth[100:140, 120:200] = 1.0
    frame = RGBDFrame(np.zeros((240, 320, 3), np.uint8), depth, camera)
    answer = GeometricEngine().answer(frame, [Region("board", box=(120, 100, 200, 140))], "How tall is <board>?")
    assert answer.success and answer.details["gravity_source"] == "camera" and "level camera" in answer.message
    assert answer.value == pytest.approx(0.08, abs=0.003)


def test_box_region_on_a_fronto_parallel_board():
    from rgpt_ros.geometry.camera import CameraIntrinsics
    camera = CameraIntrinsics(500.0, 500.0, 159.5, 119.5, 320, 240)
    depth = np.full((240, 320), 3.0, np.float32)
    depth[100:140, 120:200] = 1.0
    frame = RGBDFrame(np.zeros((240, 320, 3), np.uint8), depth, camera)
    answer = GeometricEngine().answer(frame, [Region("board", box=(120, 100, 200, 140))], "How wide is <board>?")
    assert answer.value == pytest.approx(0.16, abs=0.003)


@pytest.mark.parametrize("kind", ["mask", "rle", "polygon", "box"])
def test_every_region_kind_measures_the_tower(rendered, kind):
    import cv2
    frame, rgbd, _ = rendered
    mask = frame.mask(1)
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    spec = {"mask": mask, "rle": mask_to_rle(mask), "polygon": [c.reshape(-1).tolist() for c in contours],
            "box": frame.visible_box(1)}[kind]
    answer = GeometricEngine().answer(rgbd, [Region("tower", **{kind: spec})], "How tall is <tower>?")
    assert answer.success and answer.value == pytest.approx(0.7, rel=0.12)


def test_unknown_engine_options_are_rejected():
    with pytest.raises(ValueError, match="unknown option"):
        GeometricEngine(checkpoint="/x")
