"""Real rosbag2 bags (sqlite3 and MCAP) written and read with rosbags: round trips, damage, atomic output, topics."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from rosbags.highlevel import AnyReader

from rgpt_ros.bags.errors import BagError, CorruptBagError, TopicDetectionError
from rgpt_ros.bags.messages import camera_info_msg, image_msg, intrinsics_from_msg, region_array_msg, region_from_msg
from rgpt_ros.bags.reader import BagReader, storage_files
from rgpt_ros.bags.recording import DEPTH_TOPIC, INFO_TOPIC, RGB_TOPIC, write_frames_bag
from rgpt_ros.bags.topics import detect_topics
from rgpt_ros.bags.typestore import REGION_ARRAY, rgpt_typestore
from rgpt_ros.bags.writer import AtomicBagWriter
from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.camera import CameraIntrinsics
from rgpt_ros.geometry.regions import Region
from rgpt_ros.imaging import image_msg_to_metres, image_msg_to_rgb

STORAGES = ["sqlite3", "mcap"]
CAMERA = CameraIntrinsics(150.0, 150.0, 79.5, 59.5, 160, 120)
REGIONS = [Region("fingertip", box=(10, 12, 30, 40)), Region("cube", box=(90, 60, 120, 100))]


def _frames(n: int = 12, seed: int = 0) -> list[RGBDFrame]:
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n):
        depth = rng.uniform(0.3, 2.0, size=(120, 160)).astype(np.float32)
        depth[0, :5] = np.nan
        frames.append(RGBDFrame(rgb=rng.integers(0, 256, (120, 160, 3), dtype=np.uint8), depth=depth,
                                camera=CAMERA, stamp_ns=1_700_000_000_000_000_000 + i * 33_333_333))
    return frames


@pytest.fixture(scope="module")
def frames() -> list[RGBDFrame]:
    return _frames()


@pytest.fixture(scope="module", params=STORAGES)
def bag(request, tmp_path_factory, frames) -> Path:
    path = tmp_path_factory.mktemp(request.param) / "episode"
    write_frames_bag(frames, path, storage=request.param, regions=REGIONS)
    return path


def _decoded(bag: Path):
    out: dict[str, list] = {}
    with BagReader(bag) as reader:
        for conn, log_time, raw in reader.messages():
            out.setdefault(conn.topic, []).append((log_time, reader.deserialize(raw, conn.msgtype)))
    return out


def test_round_trip_images_info_and_regions(bag, frames):
    with BagReader(bag) as reader:
        assert reader.storage == ("mcap" if bag.parent.name.startswith("mcap") else "sqlite3")
    msgs = _decoded(bag)
    assert [len(msgs[t]) for t in (RGB_TOPIC, DEPTH_TOPIC, INFO_TOPIC)] == [len(frames)] * 3
    for frame, (_, rgb), (_, depth), (_, info) in zip(frames, msgs[RGB_TOPIC], msgs[DEPTH_TOPIC], msgs[INFO_TOPIC]):
        np.testing.assert_array_equal(image_msg_to_rgb(rgb), frame.rgb)
        assert depth.encoding == "16UC1"
        metres = image_msg_to_metres(depth)
        np.testing.assert_array_equal(np.isnan(metres), np.isnan(frame.depth))
        assert np.nanmax(np.abs(metres - frame.depth)) <= 0.0005 + 1e-6  # millimetre quantisation
        assert intrinsics_from_msg(info) == CAMERA
        rgb_stamp = rgb.header.stamp.sec * 10**9 + rgb.header.stamp.nanosec
        depth_stamp = depth.header.stamp.sec * 10**9 + depth.header.stamp.nanosec
        assert rgb_stamp == frame.stamp_ns
        assert 2_000_000 <= depth_stamp - rgb_stamp <= 6_000_000  # a real camera's depth lag
    (_, regions_msg), = msgs["/regions"]
    back = [region_from_msg(m) for m in regions_msg.regions]
    assert [r.id for r in back] == ["fingertip", "cube"]
    assert [r.box for r in back] == [r.box for r in REGIONS]
    log_times = [t for topic in msgs.values() for t, _ in topic]
    assert min(log_times) >= frames[0].stamp_ns


def test_other_tools_read_rgpt_messages(tmp_path):
    """A bag with rgpt_ros types is readable by rosbags's AnyReader from the bag's own definitions alone."""
    ts = rgpt_typestore()
    path = tmp_path / "rgpt"
    with AtomicBagWriter(path, "mcap") as out:
        reward_conn = out.add_topic("/rgpt/reward", "rgpt_ros/msg/SpatialReward", ts)
        regions_conn = out.add_topic("/rgpt/regions", REGION_ARRAY, ts)
        cls = ts.types["rgpt_ros/msg/SpatialReward"]
        from rgpt_ros.bags.messages import header_msg, point_msg
        msg = cls(header=header_msg(ts, 5, "cam"), reward=0.5, distance=0.25, progress=0.01, valid=True, success=False,
                  region_a="a", region_b="b", source="geometric", metric="closest", status="",
                  centroid_a=point_msg(ts, (1, 2, 3)), centroid_b=point_msg(ts, None), gravity_from_plane=True)
        out.write(reward_conn, 5, ts.serialize_cdr(msg, "rgpt_ros/msg/SpatialReward"))
        arr = region_array_msg(ts, REGIONS, 5, "cam", 120, 160)
        out.write(regions_conn, 5, ts.serialize_cdr(arr, REGION_ARRAY))
    with AnyReader([path]) as reader:
        assert reader.typestore is not ts
        got = {c.topic: reader.deserialize(raw, c.msgtype) for c, _, raw in reader.messages()}
        digests = {c.topic: c.digest for c in reader.connections}
    assert got["/rgpt/reward"].distance == pytest.approx(0.25) and got["/rgpt/reward"].region_b == "b"
    assert np.isnan(got["/rgpt/reward"].centroid_b.x) and got["/rgpt/reward"].centroid_a.z == 3
    assert [r.id for r in got["/rgpt/regions"].regions] == ["fingertip", "cube"]
    assert got["/rgpt/regions"].regions[1].box.width == 30
    assert digests["/rgpt/reward"] == ts.hash_rihs01("rgpt_ros/msg/SpatialReward")
    assert digests["/rgpt/reward"].startswith("RIHS01_")


@pytest.mark.parametrize("storage", STORAGES)
@pytest.mark.parametrize("keep", [0.55, 0.97])
def test_truncated_bag_error_names_bag_and_position(tmp_path, frames, storage, keep):
    src = tmp_path / "src"
    write_frames_bag(frames, src, storage=storage)
    broken = tmp_path / "broken"
    shutil.copytree(src, broken)
    (file,) = storage_files(broken)
    os.truncate(file, int(file.stat().st_size * keep))
    with pytest.raises(CorruptBagError) as info:
        with BagReader(broken) as reader:
            list(reader.messages())
    err = info.value
    assert str(broken) in str(err) and "--partial" in str(err)
    assert "after" in err.position and "readable message" in err.position
    total = 3 * len(frames)
    assert 0 <= err.messages_read < total
    # partial: every readable message comes out, the damage is recorded, then it stops
    with BagReader(broken, partial=True) as reader:
        got = list(reader.messages())
        assert reader.damage is not None and str(broken) in str(reader.damage)
        assert "--partial" not in str(reader.damage)  # already partial: no hint to use it
    assert len(got) == err.messages_read
    if keep > 0.9:
        assert len(got) >= total // 2  # most of the bag survives a cut near its end
    originals = _decoded(src)[RGB_TOPIC]
    with BagReader(broken, partial=True) as reader:
        salvaged = [reader.deserialize(raw, c.msgtype) for c, _, raw in reader.messages([RGB_TOPIC])]
    for (_, orig), msg in zip(originals, salvaged):
        np.testing.assert_array_equal(image_msg_to_rgb(msg), image_msg_to_rgb(orig))


def test_missing_bag_and_garbage_bag(tmp_path):
    with pytest.raises(BagError, match="does not exist"):
        BagReader(tmp_path / "nope").open()
    garbage = tmp_path / "garbage.mcap"
    garbage.write_bytes(b"not a bag at all" * 10)
    with pytest.raises(BagError, match="garbage.mcap"):
        with BagReader(garbage) as reader:
            list(reader.messages())


def test_atomic_writer_leaves_nothing_on_error(tmp_path):
    ts = rgpt_typestore()
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="boom"):
        with AtomicBagWriter(out, "sqlite3") as writer:
            conn = writer.add_topic("/info", "sensor_msgs/msg/CameraInfo", ts)
            writer.write(conn, 1, ts.serialize_cdr(camera_info_msg(ts, CAMERA, 1), "sensor_msgs/msg/CameraInfo"))
            assert writer.tmp_dir.exists() and not out.exists()
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    with AtomicBagWriter(out, "mcap") as writer:
        assert writer.tmp_dir.name.startswith("out.partial-")
    assert (out / "metadata.yaml").exists() and [p.name for p in tmp_path.iterdir()] == ["out"]
    with pytest.raises(BagError, match="exists already"):
        AtomicBagWriter(out, "mcap")
    with pytest.raises(BagError, match="unknown bag storage"):
        AtomicBagWriter(tmp_path / "x", "rosbag1")


def test_topic_detection_and_ambiguity(tmp_path, frames):
    plain = tmp_path / "plain"
    write_frames_bag(frames[:3], plain, rgb_topic="/cam/color/image_raw", depth_topic="/cam/depth/image_raw",
                     info_topic="/cam/color/camera_info")
    with BagReader(plain) as reader:
        topics = detect_topics(reader)
        assert (topics.rgb, topics.depth, topics.info, topics.regions) == (
            "/cam/color/image_raw", "/cam/depth/image_raw", "/cam/color/camera_info", None)

    # two colour streams: detection refuses and lists every topic with its encoding
    ts = rgpt_typestore()
    two = tmp_path / "two"
    write_frames_bag(frames[:3], two)
    both = tmp_path / "both"
    with BagReader(two) as reader, AtomicBagWriter(both, "sqlite3") as out:
        conns = {c.topic: out.copy_connection(c, reader.typestore) for c in reader.connections}
        extra = out.add_topic("/camera/second/image_raw", "sensor_msgs/msg/Image", ts)
        for conn, t, raw in reader.messages():
            out.write(conns[conn.topic], t, raw)
        out.write(extra, 1, ts.serialize_cdr(image_msg(ts, frames[0].rgb[..., ::-1].copy(), "bgr8", 1),
                                             "sensor_msgs/msg/Image"))
    with BagReader(both) as reader:
        with pytest.raises(TopicDetectionError) as info:
            detect_topics(reader)
        text = str(info.value)
        assert "2 colour image topics" in text and "--rgb-topic" in text and str(both) in text
        for topic in (RGB_TOPIC, DEPTH_TOPIC, INFO_TOPIC, "/camera/second/image_raw"):
            assert topic in text
        assert "(bgr8, 160x120)" in text and "(16UC1, 160x120)" in text
        assert detect_topics(reader, rgb="/camera/second/image_raw").rgb == "/camera/second/image_raw"
        with pytest.raises(TopicDetectionError, match="'/nope' is not in the bag"):
            detect_topics(reader, rgb="/nope")
        with pytest.raises(TopicDetectionError, match="is sensor_msgs/msg/CameraInfo, expected sensor_msgs/msg/Image"):
            detect_topics(reader, rgb=RGB_TOPIC, depth=INFO_TOPIC)
    assert issubclass(TopicDetectionError, ValueError)


def test_fast_mcap_writer_writes_the_same_bytes_as_rosbags(tmp_path):
    """The lean MCAP writer behind AtomicBagWriter produces byte-identical files to rosbags's own."""
    from rosbags.rosbag2 import StoragePlugin, Writer

    from rgpt_ros.bags.mcap_fast import FastWriter

    ts = rgpt_typestore()
    rng = np.random.default_rng(5)
    payloads = [rng.integers(0, 256, size, dtype=np.uint8).tobytes() for size in (3, 700_000, 20, 1_300_000, 0)]
    files = []
    for cls in (Writer, FastWriter):
        path = tmp_path / cls.__name__ / "bag"
        with cls(path, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
            a = writer.add_connection("/a", "sensor_msgs/msg/Image", typestore=ts)
            b = writer.add_connection("/b", "sensor_msgs/msg/CameraInfo", typestore=ts)
            for i in range(12):  # several chunks, two channels, out-of-order log times
                writer.write(a if i % 3 else b, 1000 + (i * 7919) % 13, payloads[i % len(payloads)])
        files.append((path / "bag.mcap").read_bytes())
    assert len(files[0]) > 4_000_000
    assert files[0] == files[1]


def _rosidl_type_descriptions() -> list[Path]:
    prefixes = [Path(__file__).resolve().parent.parent / "install" / "rgpt_ros"]
    prefixes += [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    for prefix in prefixes:
        found = sorted((prefix / "share" / "rgpt_ros" / "msg").glob("*.json"))
        if found:
            return found
    return []


@pytest.mark.skipif(not _rosidl_type_descriptions(), reason="rgpt_ros not built with colcon (make setup)")
def test_type_hashes_match_the_rosidl_build():
    """The hashes written into bags equal the ones ROS 2 computes for the built interfaces."""
    import json

    ts = rgpt_typestore()
    checked = 0
    for path in _rosidl_type_descriptions():
        name = f"rgpt_ros/msg/{path.stem}"
        hashes = {h["type_name"]: h["hash_string"] for h in json.loads(path.read_text())["type_hashes"]}
        assert hashes[name] == ts.hash_rihs01(name), name
        checked += 1
    assert checked >= 3
