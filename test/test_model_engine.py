"""The spatialrgpt engine on a tiny checkpoint: engine interface, encode-once, depth sources, answers, rgpt-bench."""

import json

import numpy as np
import pytest
import torch

from rgpt_ros.engines import SpatialEngine, make_engine
from rgpt_ros.engines.spatialrgpt import SpatialRGPTEngine, interpret_answer, parse_dtype
from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.camera import CameraIntrinsics
from rgpt_ros.geometry.regions import Region
from rgpt_ros.model.preprocess import depth_to_model_image
from rgpt_ros.model.testing import write_tiny_checkpoint

QUESTIONS = ["How far is <cup> from <table>?", "Is <region0> to the left of <region1>?",
             "Which is taller, <table> or <cup>?"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp("engine") / "ckpt", seed=0)


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    depth = rng.uniform(0.5, 3.0, (120, 160)).astype(np.float32)
    depth[:5] = np.nan
    return RGBDFrame(rgb, depth, CameraIntrinsics.from_fov(160, 120))


REGIONS = [Region("cup", box=(10, 10, 60, 70)), Region("table", box=(70, 40, 150, 110))]


def _engine(checkpoint, **options):
    return make_engine("spatialrgpt", checkpoint=str(checkpoint), max_new_tokens=8, **options)


def test_engine_protocol_and_answers(checkpoint, frame):
    engine = _engine(checkpoint)
    assert isinstance(engine, SpatialEngine) and engine.name == "spatialrgpt"
    answers = engine.answer_many(frame, REGIONS, QUESTIONS)
    assert [a.success for a in answers] == [True, True, True]
    assert [a.category for a in answers] == ["distance_data", "left_predicate", "tall_choice"]
    assert all(a.source == "spatialrgpt" and a.details["depth_source"] == "sensor" for a in answers)
    assert all(0 < a.details["tokens"] <= 8 and a.details["prompt_tokens"] > 196 for a in answers)


def test_encode_once_ask_many_equals_one_by_one(checkpoint, frame):
    engine = _engine(checkpoint)
    calls = []
    engine.model.vision.register_forward_hook(lambda *args: calls.append(1))
    batch = engine.answer_many(frame, REGIONS, QUESTIONS)
    assert len(calls) == 1
    rebuilt = [Region(r.id, box=r.box) for r in REGIONS]  # equal regions, new objects: still cached
    engine.answer(frame, rebuilt, QUESTIONS[0])
    assert len(calls) == 1
    single = [_engine(checkpoint).answer(frame, REGIONS, q) for q in QUESTIONS]
    assert [a.details["raw_answer"] for a in batch] == [a.details["raw_answer"] for a in single]


def test_depth_sources(checkpoint, frame):
    no_depth = RGBDFrame(frame.rgb, None, frame.camera)
    rgb_engine = _engine(checkpoint, depth_source="rgb")
    image, kind = rgb_engine.depth_image(frame)
    assert kind == "rgb" and image is frame.rgb
    image, kind = _engine(checkpoint).depth_image(no_depth)
    assert kind == "rgb"
    image, kind = _engine(checkpoint).depth_image(frame)
    assert kind == "sensor" and np.array_equal(image, depth_to_model_image(frame.depth))
    relative = np.linspace(0, 1, 120 * 160, dtype=np.float32).reshape(120, 160)
    estimated = _engine(checkpoint, depth_estimator=lambda rgb: (relative, False))
    image, kind = estimated.depth_image(frame)
    assert kind == "estimator" and np.array_equal(image, depth_to_model_image(relative, is_inverse=True))
    # the depth image reaches the model: RGB-as-depth and sensor depth give different depth embeddings
    a = rgb_engine.encode(frame, REGIONS).encoding.depth_regions
    b = _engine(checkpoint).encode(frame, REGIONS).encoding.depth_regions
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="sensor"):
        _engine(checkpoint, depth_source="sensor").depth_image(no_depth)
    with pytest.raises(ValueError, match="depth_source"):
        _engine(checkpoint, depth_source="lidar")


def test_bad_questions_and_regions_are_refused(checkpoint, frame):
    engine = _engine(checkpoint)
    outside = Region("ghost", box=(500, 500, 600, 600))
    answers = engine.answer_many(frame, REGIONS + [outside], ["How far is <chair> from <cup>?",
                                                               "How far is <ghost> from <cup>?",
                                                               "How wide is <cup>?"])
    assert not answers[0].success and "unknown region id <chair>" in answers[0].message
    assert not answers[1].success and "ghost" in answers[1].message
    assert answers[2].success  # the other regions still answer


def test_interpret_answer_maps_ids_and_parses_values():
    a = interpret_answer("Region [0] is about 1.5 meters away from Region [1].", QUESTIONS[0], REGIONS)
    assert a.text == "cup is about 1.5 meters away from table." and a.unit == "m" and a.value == pytest.approx(1.5)
    b = interpret_answer("Region [0] is 35 centimeters from Region [1].", "How far is <table> from <cup>?", REGIONS)
    assert b.text == "table is 35 centimeters from cup." and b.value == pytest.approx(0.35)
    c = interpret_answer("Region [1] is taller.", QUESTIONS[2], REGIONS)
    assert c.choice == "cup" and c.category == "tall_choice"
    d = interpret_answer("No, Region [0] is not to the left of Region [1].", QUESTIONS[1], REGIONS)
    assert d.yes is False and d.text.startswith("No, cup is not")
    e = interpret_answer("Region [1] is at 10 o'clock from Region [0].", "Where is <table> from <cup>? Clock direction.",
                         REGIONS)
    assert e.value == 10.0 and e.unit == "oclock"
    f = interpret_answer("Region [0] is 2 feet from Region [1].", "How far is Region [0] from Region [1]?", REGIONS)
    assert f.text == "Region [0] is 2 feet from Region [1]." and f.value == pytest.approx(0.6096)


def test_options():
    assert parse_dtype("bf16", "cpu") == torch.bfloat16 and parse_dtype(None, "cpu") == torch.float32
    assert parse_dtype("auto", "cuda") == torch.bfloat16
    with pytest.raises(ValueError, match="unknown dtype"):
        parse_dtype("int4", "cpu")
    with pytest.raises(ValueError, match="checkpoint"):
        SpatialRGPTEngine(checkpoint=None)


def test_rgpt_bench_backend_spatialrgpt(checkpoint, tmp_path):
    from rgpt_ros.cli.bench import main
    from rgpt_ros.synthetic.bench_scenes import write_synthetic_bench

    bench = write_synthetic_bench(tmp_path / "bench", n_scenes=1, seed=0, width=160, height=120)
    out = tmp_path / "pred.jsonl"
    assert main([str(bench), "--backend", "spatialrgpt", "--checkpoint", str(checkpoint), "--out", str(out),
                 "--limit", "3", "--no-progress"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3 and all(r["success"] for r in rows)
    assert all(r["engine_category"] == r["category"] for r in rows)


def test_warmup_runs_the_whole_path(checkpoint, frame):
    engine = _engine(checkpoint)
    calls = []
    engine.model.vision.register_forward_hook(lambda *args: calls.append(1))
    engine.warmup()
    assert len(calls) == 1 and engine._cached is None
    assert engine.answer(frame, REGIONS, QUESTIONS[0]).success
