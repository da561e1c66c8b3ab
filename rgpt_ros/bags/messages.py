"""rosbags message objects <-> core types (frames, regions, intrinsics) for reading and writing bags.

Image decoding goes through :mod:`rgpt_ros.imaging`; these helpers only build and unpack
message structures with rosbags's generated classes (no ROS install needed).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np
from rosbags.typesys.store import Typestore

from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.camera import CameraIntrinsics
from rgpt_ros.geometry.depth import decode_depth
from rgpt_ros.geometry.regions import Region, RegionError
from rgpt_ros.imaging import image_msg_to_metres, image_msg_to_numpy, image_msg_to_rgb, numpy_to_image_fields

IMAGE = "sensor_msgs/msg/Image"
CAMERA_INFO = "sensor_msgs/msg/CameraInfo"
NS = 1_000_000_000

DepthEstimate = Callable[[np.ndarray], np.ndarray]
"""``estimate(rgb (H, W, 3) uint8) -> (H, W) metres``: a metric depth model standing in for a depth camera."""


def stamp_ns(header: Any) -> int:
    """``std_msgs/Header`` (or anything with ``.stamp.sec/.nanosec``) -> nanoseconds."""
    return int(header.stamp.sec) * NS + int(header.stamp.nanosec)


def header_msg(ts: Typestore, stamp: int, frame_id: str = "") -> Any:
    time_cls = ts.types["builtin_interfaces/msg/Time"]
    return ts.types["std_msgs/msg/Header"](stamp=time_cls(sec=int(stamp // NS), nanosec=int(stamp % NS)),
                                           frame_id=frame_id)


def image_msg(ts: Typestore, array: np.ndarray, encoding: str, stamp: int, frame_id: str = "") -> Any:
    return ts.types[IMAGE](header=header_msg(ts, stamp, frame_id), **numpy_to_image_fields(array, encoding))


def empty_image_msg(ts: Typestore) -> Any:
    return ts.types[IMAGE](header=header_msg(ts, 0), height=0, width=0, encoding="", is_bigendian=0, step=0,
                           data=np.zeros(0, np.uint8))


def camera_info_msg(ts: Typestore, camera: CameraIntrinsics, stamp: int, frame_id: str = "") -> Any:
    k = camera.k_matrix().reshape(-1)
    p = np.array([camera.fx, 0, camera.cx, 0, 0, camera.fy, camera.cy, 0, 0, 0, 1, 0], np.float64)
    roi = ts.types["sensor_msgs/msg/RegionOfInterest"](x_offset=0, y_offset=0, height=0, width=0, do_rectify=False)
    return ts.types[CAMERA_INFO](header=header_msg(ts, stamp, frame_id), height=camera.height, width=camera.width,
                                 distortion_model="plumb_bob", d=np.zeros(5, np.float64), k=k.astype(np.float64),
                                 r=np.eye(3).reshape(-1), p=p, binning_x=0, binning_y=0, roi=roi)


def intrinsics_from_msg(info: Any) -> CameraIntrinsics:
    """``sensor_msgs/CameraInfo`` -> intrinsics (ValueError for an all-zero K)."""
    return CameraIntrinsics.from_k(info.k, width=int(info.width), height=int(info.height))


def frame_from_msgs(rgb: Any, depth: Any, info: Any, *, camera: Optional[CameraIntrinsics] = None,
                    depth_scale: Optional[float] = None, up: Optional[Sequence[float]] = None,
                    min_depth_m: Optional[float] = None, max_depth_m: Optional[float] = None,
                    estimate_depth: Optional[DepthEstimate] = None) -> RGBDFrame:
    """Colour + registered depth + CameraInfo messages -> :class:`RGBDFrame` stamped with the colour image.

    ``depth`` None: the depth comes from ``estimate_depth(colour)`` (metres) instead of a sensor message.
    ``depth_scale`` (metres per unit) applies to integer depth only; depth outside
    ``[min_depth_m, max_depth_m]`` becomes NaN. ValueError subclasses with clear messages on bad input.
    """
    colour = image_msg_to_rgb(rgb)
    limits = {k: v for k, v in (("min_m", min_depth_m), ("max_m", max_depth_m)) if v is not None}
    if depth is not None:
        metres = image_msg_to_metres(depth, depth_scale, **limits)
    elif estimate_depth is not None:
        metres = decode_depth(np.asarray(estimate_depth(colour), dtype=np.float32), "32FC1", **limits)
    else:
        raise ValueError("no depth message and no depth estimator for this frame")
    if metres.shape != colour.shape[:2]:
        raise ValueError(f"depth is {metres.shape[1]}x{metres.shape[0]} but colour is "
                         f"{colour.shape[1]}x{colour.shape[0]}: use the depth registered (aligned) to colour")
    up_vec = np.asarray(up, dtype=np.float64) if up is not None and len(up) == 3 else None
    return RGBDFrame(rgb=colour, depth=metres, camera=camera or intrinsics_from_msg(info),
                     stamp_ns=stamp_ns(rgb.header),
                     up=up_vec, frame_id=str(rgb.header.frame_id))


def region_from_msg(msg: Any) -> Region:
    """``rgpt_ros/Region`` message -> core Region (the mask when attached, else the box)."""
    if not msg.id:
        raise RegionError("region message without an id")
    common = dict(label=str(msg.label), tracked=bool(msg.tracked), score=float(msg.score))
    if msg.mask.height and msg.mask.width:
        mask = image_msg_to_numpy(msg.mask)
        return Region(id=str(msg.id), mask=(mask if mask.ndim == 2 else mask[..., 0]) > 0, **common)
    box = msg.box
    if not box.width or not box.height:
        raise RegionError(f"region {msg.id!r} has neither a mask nor a non-empty box")
    return Region(id=str(msg.id), box=(box.x_offset, box.y_offset, box.x_offset + box.width,
                                       box.y_offset + box.height), **common)


def region_msg(ts: Typestore, region: Region, height: int, width: int) -> Any:
    """Core Region -> ``rgpt_ros/Region`` with its clipped bounding box (an empty box when it has no pixels)."""
    try:
        x1, y1, x2, y2 = region.bounding_box(height, width)
    except RegionError:
        x1 = y1 = x2 = y2 = 0
    roi = ts.types["sensor_msgs/msg/RegionOfInterest"](x_offset=x1, y_offset=y1, height=y2 - y1, width=x2 - x1,
                                                       do_rectify=False)
    return ts.types["rgpt_ros/msg/Region"](id=region.id, label=region.label, box=roi, mask=empty_image_msg(ts),
                                           score=float(region.score), tracked=bool(region.tracked))


def region_array_msg(ts: Typestore, regions: Iterable[Region], stamp: int, frame_id: str, height: int,
                     width: int) -> Any:
    return ts.types["rgpt_ros/msg/RegionArray"](header=header_msg(ts, stamp, frame_id),
                                                regions=[region_msg(ts, r, height, width) for r in regions])


def point_msg(ts: Typestore, xyz: Optional[Sequence[float]]) -> Any:
    values = [math.nan] * 3 if xyz is None else [float(v) for v in xyz]
    return ts.types["geometry_msgs/msg/Point"](x=values[0], y=values[1], z=values[2])


def spatial_reward_msg(ts: Typestore, result: Any, stamp: int, frame_id: str) -> Any:
    """``rgpt_ros/SpatialReward`` from a :class:`rgpt_ros.reward.pipeline.RewardResult` (NaN numbers when invalid)."""
    valid = bool(result.valid)
    centroids = getattr(result, "centroids", {}) or {}
    region_a, region_b = result.pair
    return ts.types["rgpt_ros/msg/SpatialReward"](
        header=header_msg(ts, stamp, frame_id), reward=float(result.reward) if valid else math.nan,
        distance=float(result.distance) if valid else math.nan, progress=float(result.progress) if valid else 0.0,
        valid=valid, success=bool(result.success), region_a=region_a, region_b=region_b,
        source=str(getattr(result, "source", "geometric")), metric=str(result.metric), status=str(result.status),
        centroid_a=point_msg(ts, centroids.get(region_a)), centroid_b=point_msg(ts, centroids.get(region_b)),
        gravity_from_plane=bool(getattr(result, "gravity_from_plane", False)))
