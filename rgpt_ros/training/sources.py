"""RGB-D frames with regions to generate QAs from: synthetic scenes, the demo reaching episode, bench files.

Each source yields :class:`SourceFrame` items (a stable key, the RGB-D frame, its regions), deterministically
for a given seed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.regions import Region
from rgpt_ros.qa.bench import load_bench, load_frame

MIN_REGION_PX = 200


class SourceError(ValueError):
    """A frame source that cannot be read or configured."""


@dataclass
class SourceFrame:
    """One frame to ask questions about. key: unique, file-name safe; regions: at least one."""

    key: str
    frame: RGBDFrame
    regions: list[Region]


def synthetic_frames(n_frames: int, seed: int = 0, width: int = 640, height: int = 480,
                     noisy: bool = True) -> Iterator[SourceFrame]:
    """Random floor/table scenes of the synthetic bench generator, regions = visible object masks."""
    from rgpt_ros.synthetic.bench_scenes import make_scene
    from rgpt_ros.synthetic.render import render

    if n_frames < 1:
        raise SourceError(f"n_frames must be >= 1, got {n_frames}")
    for i in range(n_frames):
        rng = np.random.default_rng([seed, i])
        scene, pose = make_scene(rng)
        rendered = render(scene, pose, width=width, height=height)
        regions = [Region(id=f"obj{k}", mask=rendered.mask(k)) for k in range(len(rendered.objects))
                   if np.count_nonzero(rendered.mask(k)) >= MIN_REGION_PX]
        if len(regions) < 2:
            continue
        yield SourceFrame(f"syn{seed}_{i:06d}", rendered.to_rgbd_frame(noisy=noisy, rng=rng), regions)


def episode_frames(kind: str = "straight", n_frames: int = 60, seed: int = 0, stride: int = 1,
                   width: int = 640, height: int = 480) -> Iterator[SourceFrame]:
    """Frames of a synthetic reaching episode (the demo episode: fingertip and cube boxes)."""
    from rgpt_ros.synthetic.episodes import make_episode

    if stride < 1:
        raise SourceError(f"stride must be >= 1, got {stride}")
    episode = make_episode(kind, n_frames=n_frames, seed=seed, width=width, height=height)
    for i in range(0, len(episode), stride):
        step = episode[i]
        regions = step.regions()
        if len(regions) < 2:
            continue
        yield SourceFrame(f"ep{kind}{seed}_{i:05d}", step.rgbd(), regions)


def bench_frames(path: str | os.PathLike, root: Optional[str | os.PathLike] = None,
                 key_prefix: str = "") -> Iterator[SourceFrame]:
    """Frames of a bench-format file with sensor depth (``depth_info`` + ``camera``); regions of all its
    questions about the same image, de-duplicated by mask. Samples without depth are skipped."""
    samples = load_bench(path, root)
    groups: dict[tuple, list] = {}
    for sample in samples:
        if sample.has_depth:
            groups.setdefault((str(sample.image_path), str(sample.depth_path)), []).append(sample)
    if not groups:
        raise SourceError(f"{path}: no sample has depth_info and camera (needed to measure the scene)")
    for n, ((image, _depth), group) in enumerate(groups.items()):
        frame = load_frame(group[0])
        regions: list[Region] = []
        seen: set[bytes] = set()
        for sample in group:
            for region in sample.regions:
                mask = region.to_mask(frame.height, frame.width, allow_empty=True)
                digest = np.packbits(mask).tobytes()
                if mask.any() and digest not in seen:
                    seen.add(digest)
                    regions.append(Region(id=f"r{len(regions)}", mask=mask))
        if regions:
            yield SourceFrame(f"{key_prefix}{Path(image).stem}_{n:05d}", frame, regions)


def bag_frames(path: str | os.PathLike, *, regions_topic: str = "/rgpt/regions", stride: int = 1,
               rgb_topic: Optional[str] = None, depth_topic: Optional[str] = None, info_topic: Optional[str] = None,
               depth_scale: Optional[float] = None, key_prefix: Optional[str] = None) -> Iterator[SourceFrame]:
    """Frames of an annotated bag (``rgpt-annotate`` output): colour, depth and CameraInfo synchronised as the
    annotation did, with the tracked regions of the ``regions_topic`` RegionArray stamped like the frame.
    Frames without tracked regions are skipped."""
    from rgpt_ros.bags.frames import FrameAssembler
    from rgpt_ros.bags.messages import frame_from_msgs, region_from_msg, stamp_ns
    from rgpt_ros.bags.reader import BagReader
    from rgpt_ros.bags.topics import detect_topics
    from rgpt_ros.geometry.regions import RegionError

    if stride < 1:
        raise SourceError(f"stride must be >= 1, got {stride}")
    with BagReader(path) as reader:
        topics = detect_topics(reader, rgb_topic, depth_topic, info_topic, regions_topic)
        by_stamp: dict[int, list[Region]] = {}
        for conn, log_time, raw in reader.messages([topics.regions]):
            msg = reader.decode(conn, log_time, raw)
            regions = []
            for region_msg in msg.regions:
                try:
                    region = region_from_msg(region_msg)
                except RegionError:
                    continue
                if region.tracked:
                    regions.append(region)
            by_stamp[stamp_ns(msg.header)] = regions
        if not by_stamp:
            raise SourceError(f"bag {str(path)!r}: no RegionArray message on {regions_topic} (annotate it first "
                              "with rgpt-annotate)")
        assembler = FrameAssembler(topics)
        count = 0
        for conn, log_time, raw in reader.messages(assembler.topics):
            for msgs, _ in assembler.add(conn.topic, log_time, reader.decode(conn, log_time, raw)):
                stamp = stamp_ns(msgs.rgb.header)
                regions = by_stamp.get(stamp)
                if regions and count % stride == 0:
                    frame = frame_from_msgs(msgs.rgb, msgs.depth, msgs.info, depth_scale=depth_scale)
                    yield SourceFrame(f"{key_prefix or Path(path).stem}_{stamp}", frame, regions)
                count += bool(regions)
