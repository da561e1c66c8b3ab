"""`rgpt-annotate --depth-model`: RGB-only bags annotated with depth from a (tiny, random) metric Depth Anything."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from rosbags.highlevel import AnyReader

from rgpt_ros.bags import AnnotationOptions, annotate_bag, write_episode_bag
from rgpt_ros.bags.depth_model import load_depth_model
from rgpt_ros.bags.errors import TopicDetectionError
from rgpt_ros.bags.recording import DEPTH_TOPIC, INFO_TOPIC, RGB_TOPIC
from rgpt_ros.cli.annotate import main
from rgpt_ros.depth.configs import write_random_depth_checkpoint
from rgpt_ros.synthetic.episodes import CUBE, FINGERTIP, make_episode

N_FRAMES = 8
MODEL_INPUT = 112  # the checkpoint's processor size (hub checkpoints: 518); keeps the CPU test fast


@pytest.fixture(scope="module")
def episode():
    return make_episode("straight", n_frames=N_FRAMES, seed=5, width=160, height=120)


def small_input(checkpoint: Path) -> Path:
    """The checkpoint with its image processor resizing to MODEL_INPUT instead of 518."""
    config_path = checkpoint / "preprocessor_config.json"
    config = json.loads(config_path.read_text())
    config["size"] = {"height": MODEL_INPUT, "width": MODEL_INPUT}
    config_path.write_text(json.dumps(config))
    return checkpoint


@pytest.fixture(scope="module")
def metric_model(tmp_path_factory) -> Path:
    return small_input(write_random_depth_checkpoint(tmp_path_factory.mktemp("metric") / "ckpt", metric=True,
                                                     max_depth=3, seed=0))


@pytest.fixture(scope="module")
def rgb_only_bag(tmp_path_factory, episode) -> Path:
    return write_episode_bag(episode, tmp_path_factory.mktemp("bags") / "rgb_only", storage="mcap", depth_topic=None)


def read_all(path: Path) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    with AnyReader([path]) as reader:
        for conn, _, raw in reader.messages():
            out.setdefault(conn.topic, []).append(bytes(raw))
    return out


def region_args(episode) -> list[str]:
    args = []
    for region in episode[0].regions():
        args += ["--region", f"{region.id}=" + ",".join(str(v) for v in region.box)]
    return args + ["--pair", f"{FINGERTIP},{CUBE}"]


def test_rgb_only_bag_without_depth_model_is_refused(rgb_only_bag, episode, tmp_path):
    assert set(read_all(rgb_only_bag)) == {RGB_TOPIC, INFO_TOPIC}
    with pytest.raises(TopicDetectionError, match="--depth-model"):
        annotate_bag(rgb_only_bag, tmp_path / "out", AnnotationOptions(regions=episode[0].regions()))
    assert not (tmp_path / "out").exists()


def test_depth_model_annotates_rgb_only_bag(rgb_only_bag, episode, metric_model, tmp_path):
    model = load_depth_model(str(metric_model), "cpu")
    calls_before = model.calls
    out, table, summary_json = tmp_path / "annotated", tmp_path / "rewards.csv", tmp_path / "summary.json"
    code = main([str(rgb_only_bag), *region_args(episode), "--out", str(out), "--csv", str(table),
                 "--summary-json", str(summary_json), "--depth-model", str(metric_model), "--no-progress"])
    assert code == 0
    assert model.calls - calls_before == N_FRAMES  # one estimate per synchronised colour frame
    [result] = json.loads(summary_json.read_text())
    summary = result["summary"]
    assert summary["depth_source"] == f"model:{metric_model}" and summary["topics"]["depth"] is None
    assert summary["frames"] == N_FRAMES

    given, written = read_all(rgb_only_bag), read_all(out)
    assert set(written) == set(given) | {"/rgpt/reward", "/rgpt/regions"}
    assert all(written[topic] == messages for topic, messages in given.items())
    assert len(written["/rgpt/reward"]) == len(written["/rgpt/regions"]) == N_FRAMES

    rows = list(csv.DictReader(table.open()))
    assert len(rows) == N_FRAMES and [int(r["frame"]) for r in rows] == list(range(N_FRAMES))
    valid = [r for r in rows if r["valid"] == "1"]
    assert valid, "no frame was measurable with the estimated depth"
    assert all(math.isfinite(float(r["distance_m"])) and float(r["distance_m"]) >= 0 for r in valid)


def test_relative_checkpoint_is_refused(rgb_only_bag, episode, tmp_path, capsys):
    relative = write_random_depth_checkpoint(tmp_path / "relative", metric=False, seed=0)
    with pytest.raises(SystemExit) as exit_info:
        main([str(rgb_only_bag), *region_args(episode), "--out", str(tmp_path / "out"),
              "--depth-model", str(relative), "--no-progress"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert str(relative) in err and "relative" in err
    assert not (tmp_path / "out").exists()


def test_sensor_depth_wins_over_the_model(episode, metric_model, tmp_path, caplog):
    bag = write_episode_bag(episode, tmp_path / "rgbd", storage="sqlite3")
    assert DEPTH_TOPIC in read_all(bag)
    options = AnnotationOptions(regions=episode[0].regions(), pair=(FINGERTIP, CUBE))
    model = load_depth_model(str(metric_model), "cpu")
    calls_before = model.calls
    plain = annotate_bag(bag, tmp_path / "plain", options)
    with caplog.at_level("WARNING", logger="rgpt_ros.bags.annotate"):
        with_model = annotate_bag(bag, tmp_path / "with_model", options, depth_model=str(metric_model))
    assert model.calls == calls_before
    assert with_model.depth_source == plain.depth_source == "sensor"
    assert "sensor depth" in caplog.text and str(metric_model) in caplog.text
    assert plain.valid_frames == N_FRAMES
    assert [(r.distance_m, r.valid) for r in with_model.records] == [(r.distance_m, r.valid) for r in plain.records]
