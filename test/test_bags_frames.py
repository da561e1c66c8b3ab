"""Bag messages -> synchronised RGB-D frames through the shared synchroniser (real bags, lagging depth)."""

from __future__ import annotations

import numpy as np

from rgpt_ros.bags.frames import FrameAssembler
from rgpt_ros.bags.messages import frame_from_msgs, stamp_ns
from rgpt_ros.bags.reader import BagReader
from rgpt_ros.bags.recording import DEPTH_TOPIC, write_frames_bag
from rgpt_ros.bags.topics import detect_topics
from rgpt_ros.bags.writer import AtomicBagWriter
from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.camera import CameraIntrinsics

CAMERA = CameraIntrinsics(100.0, 100.0, 39.5, 29.5, 80, 60)


def _frames(n: int) -> list[RGBDFrame]:
    rng = np.random.default_rng(1)
    return [RGBDFrame(rgb=rng.integers(0, 256, (60, 80, 3), dtype=np.uint8),
                      depth=np.full((60, 80), 0.5 + 0.01 * i, np.float32), camera=CAMERA,
                      stamp_ns=2_000_000_000 + i * 33_333_333, frame_id="cam") for i in range(n)]


def _assemble(bag):
    with BagReader(bag) as reader:
        topics = detect_topics(reader)
        assembler = FrameAssembler(topics)
        out = []
        for conn, log_time, raw in reader.messages():
            if conn.topic in assembler.topics:
                for msgs, frame_log_time in assembler.add(conn.topic, log_time, reader.deserialize(raw, conn.msgtype)):
                    out.append((frame_from_msgs(msgs.rgb, msgs.depth, msgs.info), frame_log_time,
                                stamp_ns(msgs.depth.header)))
    return out


def test_every_frame_pairs_with_its_lagging_depth(tmp_path):
    frames = _frames(15)
    bag = write_frames_bag(frames, tmp_path / "bag", storage="mcap", depth_lag_ms=(3.0, 9.0))
    got = _assemble(bag)
    assert len(got) == len(frames)
    for original, (frame, log_time, depth_stamp) in zip(frames, got):
        assert frame.stamp_ns == original.stamp_ns and frame.frame_id == "cam"
        np.testing.assert_array_equal(frame.rgb, original.rgb)
        np.testing.assert_allclose(frame.depth, original.depth, atol=6e-4)  # its own depth, not a neighbour's
        assert 3_000_000 <= depth_stamp - original.stamp_ns <= 9_000_000
        assert log_time >= depth_stamp and frame.camera == CAMERA


def test_frames_without_depth_are_skipped(tmp_path):
    frames = _frames(12)
    full = write_frames_bag(frames, tmp_path / "full", storage="sqlite3")
    gappy = tmp_path / "gappy"
    with BagReader(full) as reader, AtomicBagWriter(gappy, "sqlite3") as out:
        depth_seen = 0
        for conn, log_time, raw in reader.messages():
            if conn.topic == DEPTH_TOPIC:
                depth_seen += 1
                if depth_seen in (4, 5, 9):  # the driver dropped three depth images
                    continue
            out.write(out.copy_connection(conn, reader.typestore), log_time, raw)
    got = _assemble(gappy)
    assert [f.stamp_ns for f, _, _ in got] == [f.stamp_ns for i, f in enumerate(frames) if i not in (3, 4, 8)]
