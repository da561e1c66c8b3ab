"""Writing RGB-D frame sequences as realistic camera bags (RealSense topic names, 16UC1 mm depth, lagging stamps).

Used by tests, benchmarks and the demo to produce the same kind of bag a robot records.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import numpy as np

from rgpt_ros.bags.messages import CAMERA_INFO, IMAGE, camera_info_msg, image_msg, region_array_msg
from rgpt_ros.bags.typestore import REGION_ARRAY, rgpt_typestore
from rgpt_ros.bags.writer import AtomicBagWriter
from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.depth import encode_depth_mm
from rgpt_ros.geometry.regions import Region

RGB_TOPIC = "/camera/camera/color/image_raw"
DEPTH_TOPIC = "/camera/camera/aligned_depth_to_color/image_raw"
INFO_TOPIC = "/camera/camera/color/camera_info"
MS = 1_000_000


def write_frames_bag(frames: Iterable[RGBDFrame], path: str | Path, *, storage: str = "sqlite3",
                     rgb_topic: str = RGB_TOPIC, depth_topic: Optional[str] = DEPTH_TOPIC,
                     info_topic: str = INFO_TOPIC, rgb_encoding: str = "rgb8", depth_encoding: str = "16UC1",
                     regions: Optional[Sequence[Region]] = None, regions_topic: str = "/regions",
                     depth_lag_ms: tuple[float, float] = (2.0, 6.0), transport_ms: float = 4.0,
                     seed: int = 0, frame_id: str = "camera_color_optical_frame") -> Path:
    """Record ``frames`` as a rosbag2 bag; returns the bag path.

    Depth carries a header stamp a few ms after the colour image (uniform in ``depth_lag_ms``,
    like a real driver), CameraInfo shares the colour stamp, and every message is logged
    ``transport_ms`` (+-1 ms jitter) after its stamp; frames without a ``frame_id`` get ``frame_id``.
    With ``regions`` a RegionArray on ``regions_topic`` is logged just before the first frame.
    ``depth_topic`` None records an RGB-only bag (colour + CameraInfo, no depth).
    """
    ts = rgpt_typestore()
    rng = np.random.default_rng(seed)
    with AtomicBagWriter(path, storage) as out:
        conn_rgb = out.add_topic(rgb_topic, IMAGE, ts)
        conn_depth = out.add_topic(depth_topic, IMAGE, ts) if depth_topic is not None else None
        conn_info = out.add_topic(info_topic, CAMERA_INFO, ts)
        conn_regions = out.add_topic(regions_topic, REGION_ARRAY, ts) if regions else None
        for index, frame in enumerate(frames):
            stamp = int(frame.stamp_ns)
            fid = frame.frame_id or frame_id
            depth_stamp = stamp + int(rng.uniform(*depth_lag_ms) * MS)
            if index == 0 and conn_regions is not None:
                msg = region_array_msg(ts, regions, stamp, fid, frame.height, frame.width)
                out.write(conn_regions, stamp, ts.serialize_cdr(msg, REGION_ARRAY))
            rgb = frame.rgb[..., ::-1] if rgb_encoding == "bgr8" else frame.rgb
            pending: list[tuple[int, Any, Any, str]] = [
                (stamp, conn_rgb, image_msg(ts, np.ascontiguousarray(rgb), rgb_encoding, stamp, fid), IMAGE),
                (stamp, conn_info, camera_info_msg(ts, frame.camera, stamp, fid), CAMERA_INFO),
            ]
            if conn_depth is not None:
                depth = encode_depth_mm(frame.depth) if depth_encoding == "16UC1" else frame.depth.astype(np.float32)
                depth_msg = image_msg(ts, depth, depth_encoding, depth_stamp, fid)
                pending.append((depth_stamp, conn_depth, depth_msg, IMAGE))
            logged = [(header_stamp + int((transport_ms + rng.uniform(-1.0, 1.0)) * MS), conn, msg, msgtype)
                      for header_stamp, conn, msg, msgtype in pending]
            for log_time, conn, msg, msgtype in sorted(logged, key=lambda item: item[0]):
                out.write(conn, log_time, ts.serialize_cdr(msg, msgtype))
    return Path(path)


def write_episode_bag(episode: Any, path: str | Path, storage: str = "sqlite3", rgb_topic: str = RGB_TOPIC,
                      depth_topic: Optional[str] = DEPTH_TOPIC, info_topic: str = INFO_TOPIC, *,
                      regions_topic: Optional[str] = None, **options: Any) -> Path:
    """Record a generated reaching episode (:mod:`rgpt_ros.synthetic.episodes`) as a camera bag.

    Colour rgb8, depth 16UC1 millimetres lagging the colour stamp by a few ms, CameraInfo.
    With ``regions_topic`` the first frame's true boxes are stored there as a RegionArray;
    ``depth_topic`` None records no depth (an RGB-only camera).
    """
    first = episode[0]
    regions = first.regions() if regions_topic else None

    def frames() -> Iterable[RGBDFrame]:
        yield first.rgbd(with_up=False)
        for i in range(1, len(episode)):
            yield episode[i].rgbd(with_up=False)

    extra = {"regions": regions, "regions_topic": regions_topic} if regions_topic else {}
    return write_frames_bag(frames(), path, storage=storage, rgb_topic=rgb_topic, depth_topic=depth_topic,
                            info_topic=info_topic, seed=episode.seed, **extra, **options)
