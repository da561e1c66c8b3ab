"""rgpt-make-qa: templates, scene graph margins, balanced deterministic generation, record format, CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_training_helpers import one_thread, small_qa_set

from rgpt_ros.cli.make_qa import main as make_qa_main
from rgpt_ros.engines.geometric import GeometricEngine
from rgpt_ros.geometry.regions import Region
from rgpt_ros.model.preprocess import depth_to_model_image
from rgpt_ros.qa.bench import load_bench, load_frame
from rgpt_ros.qa.categories import BENCH_CATEGORIES, CATEGORIES
from rgpt_ros.qa.questions import parse_question
from rgpt_ros.qa.units import parse_clock, parse_length
from rgpt_ros.training.dataset import SpatialQADataset, load_records
from rgpt_ros.training.make_qa import MakeQAConfig, make_qa
from rgpt_ros.training.qa_templates import QUESTION_TEMPLATES, render_question
from rgpt_ros.training.scene_graph import Margins, SceneGraph
from rgpt_ros.training.sources import bench_frames, synthetic_frames

SYMMETRIC = {"distance_data", "horizontal_distance_data", "vertical_distance_data"}


@pytest.fixture(scope="module", autouse=True)
def _single_thread():
    yield from one_thread()


@pytest.fixture(scope="module")
def qa_dir(tmp_path_factory) -> Path:
    return small_qa_set(tmp_path_factory.mktemp("qa") / "qa", seed=3, per_category=2, frames=20, eval_fraction=0.2)


def _records(folder: Path) -> list[dict]:
    index = json.loads((folder / "index.json").read_text())
    return [r for name in index["shards"] for r in json.loads((folder / name).read_text())]


def test_every_template_parses_back_to_its_category_and_roles():
    regions = [Region(id="0", box=(0, 0, 4, 4)), Region(id="1", box=(4, 4, 8, 8))]
    for category, templates in QUESTION_TEMPLATES.items():
        assert len(set(templates)) >= 10, category
        for template in templates:
            rendered = render_question(template)
            parsed = parse_question(rendered.text, regions)
            assert parsed is not None and parsed.category == category, (category, rendered.text)
            if CATEGORIES[category].answer != "choice" and category not in SYMMETRIC:
                expected = tuple(rendered.order.index(role) for role in range(len(rendered.order)))
                assert parsed.roles == expected, (category, rendered.text)


def test_generation_is_balanced_and_deterministic(qa_dir, tmp_path):
    index = json.loads((qa_dir / "index.json").read_text())
    assert index["counts"] == {c: 2 for c in BENCH_CATEGORIES}
    records = _records(qa_dir)
    assert Counter(r["qa_info"]["category"] for r in records) == {c: 2 for c in BENCH_CATEGORIES}
    for category in BENCH_CATEGORIES:  # yes/no and answer position alternate
        truths = [r["truth"] for r in records if r["qa_info"]["category"] == category]
        if CATEGORIES[category].answer == "predicate":
            assert sorted(t["yes"] for t in truths) == [False, True], category
        if CATEGORIES[category].answer == "choice":
            assert sorted(t["choice"] for t in truths) == [0, 1], category
    again = small_qa_set(tmp_path / "again", seed=3, per_category=2, frames=20, eval_fraction=0.2)
    for name in index["shards"] + ["eval.json"]:
        assert (again / name).read_bytes() == (qa_dir / name).read_bytes()
    for image in (qa_dir / "images").iterdir():
        assert (again / "images" / image.name).read_bytes() == image.read_bytes()
    other = small_qa_set(tmp_path / "other", seed=4, per_category=2, frames=20)
    assert _records(other) != records


def test_records_follow_the_reference_and_bench_formats(qa_dir):
    records = _records(qa_dir)
    for record in records:
        human, gpt = record["conversations"]
        assert human["from"] == "human" and human["value"].startswith("<image>\n")
        n = len(record["rle"])
        assert human["value"].count("<mask> <depth>") == n == len(record["bbox"]) == CATEGORIES[
            record["qa_info"]["category"]].regions
        assert "Region [" in gpt["value"] and "<mask>" not in gpt["value"]
        stem = record["filename"]
        assert (qa_dir / "images" / f"{stem}.jpg").is_file() and (qa_dir / record["depth_image"]).is_file()
        for rle, box in zip(record["rle"], record["bbox"]):
            mask = Region(id="r", rle=rle).to_mask(record["image_info"]["height"], record["image_info"]["width"])
            ys, xs = np.nonzero(mask)
            assert [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1] == box
    samples = load_bench(qa_dir / json.loads((qa_dir / "index.json").read_text())["shards"][0])
    assert len(samples) == len(records) and all(s.has_depth for s in samples)
    frame = load_frame(samples[0])  # the depth image is the model's conversion of the saved metric depth (to 1 mm)
    saved = cv2.imread(str(qa_dir / records[0]["depth_image"]), cv2.IMREAD_UNCHANGED)
    assert np.mean(np.abs(saved.astype(int) - depth_to_model_image(frame.depth)[:, :, 0].astype(int))) < 1.0


def test_answers_agree_with_the_geometric_engine_on_the_written_files(qa_dir):
    """Re-measure every eval question from the saved JPEG + 16-bit depth (gravity re-estimated from the floor)."""
    samples = load_bench(qa_dir / "eval.json")
    assert samples
    engine = GeometricEngine()
    agree = 0
    for sample in samples:
        truth = sample.raw["truth"]
        answer = engine.answer(load_frame(sample), sample.regions, sample.question)
        assert answer.success and answer.category == sample.category, (sample.question, answer.message)
        if "yes" in truth:
            agree += answer.yes == truth["yes"]
        elif "choice" in truth:
            agree += answer.choice == str(truth["choice"])
        elif "hour" in truth:
            agree += min(abs(parse_clock(answer.text) - truth["hour"]) % 12, 12 - abs(parse_clock(answer.text) -
                                                                                    truth["hour"]) % 12) <= 1
        else:
            agree += abs(parse_length(answer.text) - truth["value"]) <= 0.1 * truth["value"] + 0.01
    assert agree >= 0.9 * len(samples)


def test_cases_too_close_to_call_are_skipped():
    source = next(synthetic_frames(10, seed=1, width=240, height=180))
    graph = SceneGraph(source.frame, source.regions)
    assert len(graph) >= 2 and graph.cases("left_predicate") and graph.cases("width_data")
    strict = SceneGraph(source.frame, source.regions, margins=Margins(position_m=50.0, min_length_m=50.0,
                                                                      direction_min_m=50.0))
    for category in ("left_predicate", "above_choice", "behind_predicate", "distance_data", "width_data", "direction"):
        assert strict.cases(category) == [], category


def test_multi_turn_records_bind_one_mask_per_mention(tmp_path):
    folder = small_qa_set(tmp_path / "mt", seed=5, per_category=1, frames=12, turns=3)
    records = _records(folder)
    assert any(len(r["conversations"]) == 6 for r in records)
    from rgpt_ros.model.testing import tiny_tokenizer

    dataset = SpatialQADataset(load_records([folder]), tiny_tokenizer(), image_size=112)
    mask_id = dataset.tokenizer.convert_tokens_to_ids("<mask>")
    for i, record in enumerate(records):
        human_text = "".join(t["value"] for t in record["conversations"] if t["from"] == "human")
        assert human_text.count("<image>") == 1 and human_text.count("<mask>") == len(record["rle"])
        sample = dataset[i]
        assert sample["masks"].shape[0] == len(record["rle"]) == int((sample["input_ids"] == mask_id).sum())


def test_rephrase_hook_keeps_only_rewordings_with_the_same_regions(tmp_path):
    def polite(question: str, category: str) -> str:
        return "Please answer briefly. " + question

    def careless(question: str, category: str) -> str:
        return "Is it there?"

    frames = lambda: synthetic_frames(3, seed=2, width=240, height=180)  # noqa: E731
    make_qa(frames(), tmp_path / "a", MakeQAConfig(seed=2, balance=False), rephrase=polite, progress=False)
    assert all(r["text_q"].startswith("Please answer briefly. ") for r in _records(tmp_path / "a"))
    summary = make_qa(frames(), tmp_path / "b", MakeQAConfig(seed=2, balance=False), rephrase=careless, progress=False)
    assert summary.rephrase_rejected == summary.records > 0
    assert not any(r["text_q"] == "Is it there?" for r in _records(tmp_path / "b"))


def test_bench_files_are_a_source(qa_dir, tmp_path):
    frames = list(bench_frames(qa_dir / "eval.json"))
    assert frames and all(len(f.regions) >= 1 for f in frames)
    masks = [np.packbits(r.to_mask(f.frame.height, f.frame.width)).tobytes() for f in frames for r in f.regions]
    assert len(masks) == len(set(masks)) or len(frames) > 1  # de-duplicated within a frame
    summary = make_qa(frames, tmp_path / "from_bench", MakeQAConfig(seed=0, balance=False), progress=False)
    assert summary.records > 0


def test_cli(tmp_path, capsys):
    assert make_qa_main([str(tmp_path / "cli"), "--synthetic", "4", "--width", "240", "--height", "180",
                         "--per-category", "1", "--shard-size", "10", "--no-progress"]) == 0
    index = json.loads((tmp_path / "cli" / "index.json").read_text())
    assert len(index["shards"]) == -(-index["records"] // 10) and index["records"] > 0
    assert make_qa_main([str(tmp_path / "bad"), "--synthetic", "1", "--categories", "nearness"]) == 2
    assert "nearness" in capsys.readouterr().err
    assert make_qa_main([str(tmp_path / "none")]) == 2


def test_annotated_bags_are_a_source(tmp_path):
    from rgpt_ros.bags.annotate import annotate_bag
    from rgpt_ros.bags.recording import write_episode_bag
    from rgpt_ros.synthetic.episodes import make_episode
    from rgpt_ros.training.sources import bag_frames

    raw = write_episode_bag(make_episode("straight", n_frames=6, seed=0, width=320, height=240), tmp_path / "raw",
                            regions_topic="/regions")
    annotate_bag(raw, tmp_path / "annotated")
    frames = list(bag_frames(tmp_path / "annotated", stride=2))
    assert len(frames) == 3 and all("cube" in {r.id for r in f.regions} for f in frames)
    assert any({r.id for r in f.regions} == {"fingertip", "cube"} for f in frames)
    assert all(f.frame.depth is not None and np.isfinite(f.frame.depth).any() for f in frames)
    assert make_qa_main([str(tmp_path / "qa"), "--bag", str(tmp_path / "annotated"), "--no-balance",
                         "--no-progress"]) == 0
    records = _records(tmp_path / "qa")
    assert records and all(r["filename"].startswith("bag0_annotated_") for r in records)
    with pytest.raises(ValueError, match="/rgpt/regions"):  # a bag that was never annotated
        list(bag_frames(raw))
