"""End-to-end offline annotation of real bags (sqlite3 and MCAP) from generated reaching episodes."""

from __future__ import annotations

import csv
import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from rosbags.highlevel import AnyReader
from scipy.stats import spearmanr

from rgpt_ros.bags import AnnotationOptions, BagError, CorruptBagError, annotate_bag, write_episode_bag
from rgpt_ros.bags.reader import storage_files
from rgpt_ros.cli.annotate import main
from rgpt_ros.geometry.regions import RegionError
from rgpt_ros.synthetic.episodes import CUBE, FINGERTIP, make_episode

N_FRAMES = 40
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def tree_digest(path: Path) -> dict[str, str]:
    """sha256 and mtime of every file below ``path``."""
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest() + f"@{p.stat().st_mtime_ns}"
            for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def episode():
    return make_episode("straight", n_frames=N_FRAMES, seed=3, width=320, height=240)


@pytest.fixture(scope="module")
def bags(tmp_path_factory, episode) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bags")
    return {storage: write_episode_bag(episode, root / f"ep_{storage}", storage=storage, regions_topic="/regions")
            for storage in ("sqlite3", "mcap")}


def boxes_options(episode, **kw) -> AnnotationOptions:
    kw.setdefault("pair", (FINGERTIP, CUBE))
    return AnnotationOptions(regions=episode[0].regions(), **kw)


def read_all(path: Path) -> dict[str, list[tuple[int, bytes]]]:
    out: dict[str, list[tuple[int, bytes]]] = {}
    with AnyReader([path]) as reader:
        for conn, t, raw in reader.messages():
            out.setdefault(conn.topic, []).append((t, bytes(raw)))
    return out


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_annotate_bag_end_to_end(tmp_path, bags, episode, storage):
    src = bags[storage]
    before = tree_digest(src)
    out = tmp_path / "annotated"
    summary = annotate_bag(src, out, boxes_options(episode, csv_path=tmp_path / "ep.csv",
                                                   plot_path=tmp_path / "ep.png"))
    assert tree_digest(src) == before  # input untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["annotated", "ep.csv", "ep.png"]  # no temporaries left
    assert summary.storage == storage and summary.damage is None
    assert summary.frames == N_FRAMES and summary.valid_fraction >= 0.95

    # every input message unchanged (bytes and log time), plus one reward and one RegionArray per frame
    original, annotated = read_all(src), read_all(out)
    for topic, messages in original.items():
        assert annotated[topic] == messages
    assert set(annotated) == set(original) | {"/rgpt/reward", "/rgpt/regions"}
    assert len(annotated["/rgpt/reward"]) == len(annotated["/rgpt/regions"]) == N_FRAMES
    assert {p.suffix for p in storage_files(out)} == {".mcap" if storage == "mcap" else ".db3"}

    # decoded by an independent reader from the definitions stored in the bag
    with AnyReader([out]) as reader:
        conns = {c.topic: c for c in reader.connections}
        assert conns["/rgpt/reward"].msgtype == "rgpt_ros/msg/SpatialReward"
        assert conns["/rgpt/reward"].digest.startswith("RIHS01_")
        rewards = [reader.deserialize(raw, "rgpt_ros/msg/SpatialReward")
                   for _, _, raw in reader.messages([conns["/rgpt/reward"]])]
        regions = [reader.deserialize(raw, "rgpt_ros/msg/RegionArray")
                   for _, _, raw in reader.messages([conns["/rgpt/regions"]])]
    stamps = [r.header.stamp.sec * 10**9 + r.header.stamp.nanosec for r in rewards]
    assert stamps == [episode.stamp_ns(i) for i in range(N_FRAMES)]
    assert {r.region_a for r in rewards} == {FINGERTIP} and {r.region_b for r in rewards} == {CUBE}
    assert [m.id for m in regions[0].regions] == [FINGERTIP, CUBE]
    distance = np.array([r.distance if r.valid else np.nan for r in rewards])
    truth = episode.distances()
    ok = np.isfinite(distance)
    assert spearmanr(distance[ok], truth[ok]).statistic > 0.9
    assert np.mean(np.abs(distance[ok] - truth[ok])) < 0.03
    np.testing.assert_allclose([rec.distance_m for rec in summary.records if rec.valid], distance[ok], rtol=1e-6)

    with (tmp_path / "ep.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == N_FRAMES and list(rows[0])[:5] == ["frame", "stamp_ns", "distance_m", "reward", "valid"]
    assert {f"{FINGERTIP}_x1", f"{CUBE}_y2"} <= set(rows[0])
    assert (tmp_path / "ep.png").read_bytes().startswith(PNG_MAGIC)


def test_regions_from_bag_topic_and_storage_override(tmp_path, bags, episode):
    by_boxes = annotate_bag(bags["mcap"], tmp_path / "a", boxes_options(episode))
    by_topic = annotate_bag(bags["mcap"], tmp_path / "b", AnnotationOptions(storage="sqlite3"))
    assert by_topic.topics["regions"] == "/regions" and by_topic.storage == "sqlite3"
    assert list(storage_files(tmp_path / "b"))[0].suffix == ".db3"
    np.testing.assert_allclose([r.distance_m for r in by_topic.records], [r.distance_m for r in by_boxes.records])


def test_bad_requests_leave_no_output(tmp_path, bags, episode):
    with pytest.raises(RegionError, match="--pair names"):
        annotate_bag(bags["sqlite3"], tmp_path / "o", boxes_options(episode, pair=(FINGERTIP, "mug")))
    with pytest.raises(BagError, match="outside the input bag"):
        annotate_bag(bags["sqlite3"], bags["sqlite3"] / "inside", boxes_options(episode))
    done = annotate_bag(bags["sqlite3"], tmp_path / "o", boxes_options(episode))
    with pytest.raises(BagError, match="exists already"):
        annotate_bag(bags["sqlite3"], tmp_path / "o", boxes_options(episode))
    again = annotate_bag(bags["sqlite3"], tmp_path / "o", boxes_options(episode, overwrite=True))
    assert again.frames == done.frames
    with pytest.raises(BagError, match="already has"):  # re-annotating an annotated bag
        annotate_bag(tmp_path / "o", tmp_path / "o2", boxes_options(episode))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


@pytest.mark.parametrize("storage", ["sqlite3", "mcap"])
def test_truncated_bag_fails_clearly_or_annotates_partially(tmp_path, bags, episode, storage):
    broken = tmp_path / "broken"
    shutil.copytree(bags[storage], broken)
    (file,) = storage_files(broken)
    os.truncate(file, int(file.stat().st_size * 0.6))
    before = tree_digest(broken)
    with pytest.raises(CorruptBagError) as info:
        annotate_bag(broken, tmp_path / "out", boxes_options(episode))
    assert str(broken) in str(info.value) and "readable message" in str(info.value)
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob("out.partial-*"))
    summary = annotate_bag(broken, tmp_path / "out", boxes_options(episode, partial=True))
    assert tree_digest(broken) == before
    assert summary.damage and str(broken) in summary.damage
    assert 5 <= summary.frames < N_FRAMES
    assert read_all(tmp_path / "out")["/rgpt/reward"].__len__() == summary.frames


def test_cli_many_bags_with_workers(tmp_path, bags, episode, capsys):
    broken = tmp_path / "in" / "broken.mcap"
    broken.parent.mkdir()
    (mcap_file,) = storage_files(bags["mcap"])
    broken.write_bytes(mcap_file.read_bytes()[: mcap_file.stat().st_size // 2])
    box = {r.id: r.box for r in episode[0].regions()}
    regions = [f"--region={rid}={','.join(str(int(v)) for v in b)}" for rid, b in box.items()]
    code = main([str(bags["sqlite3"]), str(bags["mcap"]), str(broken), "--out", str(tmp_path / "out"),
                 "--csv", str(tmp_path / "csv"), "--plot", str(tmp_path / "png"), "--pair", "fingertip,cube",
                 "--workers", "2", "--no-progress", "--summary-json", str(tmp_path / "summary.json"), *regions])
    err = capsys.readouterr().err
    assert code == 1  # one bag failed ...
    assert f"FAILED {broken}" in err and "truncated or corrupt" in err and "2/3 bags annotated" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ep_mcap", "ep_sqlite3"]  # ... the rest went on
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == ["ep_mcap.csv", "ep_sqlite3.csv"]
    assert all(p.read_bytes().startswith(PNG_MAGIC) for p in (tmp_path / "png").iterdir())
    assert '"ok": false' in (tmp_path / "summary.json").read_text()
