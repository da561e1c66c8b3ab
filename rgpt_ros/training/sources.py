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


def bench_frames(path: str | os.PathLike, root: Optional[str | os.PathLike] = None) -> Iterator[SourceFrame]:
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
            yield SourceFrame(f"{Path(image).stem}_{n:05d}", frame, regions)
