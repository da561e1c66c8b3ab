"""Bench files: loading (RGB-D extension), frames, format errors, atomic writing, independent synthetic truth."""

import json

import numpy as np
import pytest

from rgpt_ros.qa.bench import (BenchFormatError, load_bench, load_frame, make_entry, parse_sample, write_json_atomic,
                               write_jsonl_atomic)
from rgpt_ros.qa.categories import BENCH_CATEGORIES
from rgpt_ros.qa.units import parse_length
from rgpt_ros.synthetic import Box, CameraPose, Scene, d435_intrinsics, render
from rgpt_ros.synthetic.bench_scenes import ground_truth


def test_load_synthetic_bench(synthetic_bench):
    samples = load_bench(synthetic_bench)
    assert len(samples) >= 30 and {s.category for s in samples} <= set(BENCH_CATEGORIES)
    s = samples[0]
    assert s.has_depth and s.camera.width == 320 and s.question.count("Region [") >= 1
    assert s.regions[0].kind == "rle" and s.raw["conversations"][0]["value"].count("<mask>") == len(s.regions)
    frame = load_frame(s)
    assert frame.rgb.shape == (240, 320, 3) and frame.depth.dtype == np.float32
    valid = frame.depth[np.isfinite(frame.depth)]
    assert 0.1 < valid.min() and valid.max() < 10.0
    assert s.regions[0].to_mask(240, 320).sum() > 0


def test_regions_are_numbered_in_order_of_mention(synthetic_bench):
    import re
    for s in load_bench(synthetic_bench):
        mentioned = [int(k) for k in re.findall(r"Region \[(\d+)\]", s.question)]
        assert list(dict.fromkeys(mentioned)) == list(range(len(s.regions)))
        assert s.raw["conversations"][0]["value"].count("<mask>") == len(mentioned)


def test_make_entry_rejects_out_of_order_region_numbers():
    mask = np.ones((4, 4), bool)
    with pytest.raises(BenchFormatError, match="order of first mention"):
        make_entry("x", "i.png", 4, 4, "Is Region [1] left of Region [0]?", "Yes.", "left_predicate", "qualitative",
                   [mask, mask])


def test_reference_answers_carry_the_exact_truth(synthetic_bench):
    for s in load_bench(synthetic_bench):
        truth = s.raw["truth"]
        if "value" in truth:
            assert parse_length(s.reference) == pytest.approx(truth["value"], rel=0.01)


def test_ground_truth_comes_from_the_scene_definition():
    scene = Scene([Box((-0.4, 0.15, -2.2), (0.4, 0.3, 0.4)), Box((0.5, 0.35, -2.8), (0.2, 0.7, 0.2))])
    frame = render(scene, CameraPose((0.0, 1.2, 0.0), pitch_deg=20.0), d435_intrinsics(320, 240))
    assert ground_truth("width_data", frame, 0, 1).value == pytest.approx(0.4)
    assert ground_truth("height_data", frame, 1, 0).value == pytest.approx(0.7)
    assert ground_truth("horizontal_distance_data", frame, 0, 1).value == pytest.approx(0.9)
    assert ground_truth("vertical_distance_data", frame, 0, 1).value == pytest.approx(0.2)
    assert ground_truth("left_predicate", frame, 0, 1).yes is True
    assert ground_truth("tall_choice", frame, 0, 1).choice == 1
    assert ground_truth("direction", frame, 0, 1).hour == 2
    assert ground_truth("distance_data", frame, 0, 1).value > 0.5
    assert ground_truth("wide_predicate", frame, 0, 0) is None  # no margin: not asked


def test_depth_estimator_and_rgb_only(synthetic_bench):
    s = load_bench(synthetic_bench)[0]
    s.depth_path = None
    assert load_frame(s).depth is None
    frame = load_frame(s, depth_estimator=lambda rgb: np.full(rgb.shape[:2], 2.0, np.float32))
    assert np.all(frame.depth == 2.0)
    s.camera = None
    assert load_frame(s).camera.fx > 0  # field-of-view guess


def _entry(**changes):
    mask = np.zeros((8, 10), bool)
    mask[2:5, 3:7] = True
    entry = make_entry("x", "img.png", 8, 10, "How wide is Region [0]?", "It is 1 m.", "width_data", "quantitative",
                       [mask])
    entry.update(changes)
    return entry


def test_make_entry_layout():
    entry = _entry()
    assert entry["bbox"] == [[3, 2, 7, 5]] and entry["conversations"][0]["value"] == "<image>\nHow wide is <mask>?"
    assert "depth_info" not in entry
    assert parse_sample(entry, __import__("pathlib").Path(".")).regions[0].to_mask(8, 10).sum() == 12


@pytest.mark.parametrize("entry, match", [
    (_entry(image_info={"file_path": "a.png"}), "missing or malformed field"),
    (_entry(qa_info={}), "missing or malformed field"),
    (_entry(rle=[], bbox=[]), "no 'rle' or 'bbox'"),
    (_entry(camera={"fx": 1.0}), "malformed camera"),
    (_entry(depth_info={"scale": 0.001}), "malformed depth_info"),
])
def test_format_errors_name_the_sample(tmp_path, entry, match):
    path = tmp_path / "b.json"
    path.write_text(json.dumps([entry]))
    with pytest.raises(BenchFormatError, match=match):
        load_bench(path)


def test_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="bench file not found"):
        load_bench(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(BenchFormatError, match="not valid JSON"):
        load_bench(tmp_path / "bad.json")
    (tmp_path / "obj.json").write_text("{}")
    with pytest.raises(BenchFormatError, match="JSON list"):
        load_bench(tmp_path / "obj.json")
    (tmp_path / "noimg.json").write_text(json.dumps([_entry()]))
    with pytest.raises(FileNotFoundError, match="cannot read image"):
        load_frame(load_bench(tmp_path / "noimg.json")[0])


def test_atomic_writers(tmp_path):
    write_json_atomic([{"a": 1}], tmp_path / "sub" / "x.json")
    write_jsonl_atomic([{"a": 1}, {"b": 2}], tmp_path / "x.jsonl")
    assert json.loads((tmp_path / "sub" / "x.json").read_text()) == [{"a": 1}]
    assert (tmp_path / "x.jsonl").read_text().splitlines() == ['{"a": 1}', '{"b": 2}']
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["x.json", "x.jsonl"]
