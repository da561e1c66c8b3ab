"""Conversions between rgpt_ros / sensor_msgs messages and the ROS-free core types."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CameraInfo, Image, RegionOfInterest

from rgpt_ros.frame import RGBDFrame
from rgpt_ros.bags.messages import intrinsics_from_msg, region_from_msg
from rgpt_ros.geometry.regions import Region, RegionError
from rgpt_ros.geometry.depth import DEFAULT_MAX_M, DEFAULT_MIN_M, decode_depth
from rgpt_ros.imaging import image_msg_to_numpy, image_msg_to_rgb, numpy_to_image_fields
from rgpt_ros.msg import Region as RegionMsg

__all__ = ["intrinsics_from_msg", "region_from_msg", "checked_region", "region_to_msg", "make_frame", "numpy_to_image_msg",
           "stamp_to_ns", "ns_to_stamp"]


def stamp_to_ns(stamp: Time) -> int:
    return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)


def ns_to_stamp(ns: int) -> Time:
    return Time(sec=int(ns // 1_000_000_000), nanosec=int(ns % 1_000_000_000))


def checked_region(msg: RegionMsg, height: int = 0, width: int = 0) -> Region:
    """Region message -> core Region, checked against the image size when known (RegionError otherwise)."""
    region = region_from_msg(msg)
    if height and width:
        region.to_mask(height, width)
    return region


def region_to_msg(region: Region, height: int, width: int, with_mask: bool = False) -> RegionMsg:
    """Core Region -> message; the box is the region's clipped bounding box."""
    msg = RegionMsg(id=region.id, label=region.label, score=float(region.score), tracked=bool(region.tracked))
    try:
        x1, y1, x2, y2 = region.bounding_box(height, width)
    except RegionError:
        x1 = y1 = x2 = y2 = 0
    msg.box = RegionOfInterest(x_offset=x1, y_offset=y1, width=x2 - x1, height=y2 - y1, do_rectify=False)
    if with_mask and region.kind != "box":
        fields = numpy_to_image_fields(region.to_mask(height, width, allow_empty=True).astype(np.uint8) * 255, "mono8",
                                       as_bytes=True)
        msg.mask = Image(**fields)
    return msg


def numpy_to_image_msg(array: np.ndarray, encoding: str, header=None) -> Image:
    msg = Image(**numpy_to_image_fields(array, encoding, as_bytes=True))
    if header is not None:
        msg.header = header
    return msg


def make_frame(rgb_msg: Image, depth_msg: Optional[Image], info: CameraInfo, *, depth_scale: Optional[float] = None,
               up: Optional[Sequence[float]] = None, min_depth: float = DEFAULT_MIN_M,
               max_depth: float = DEFAULT_MAX_M) -> RGBDFrame:
    """Synchronised messages -> RGBDFrame (raises ValueError subclasses with clear messages).

    ``depth_scale`` (metres per unit) applies to integer depth encodings only; float depth is metres.
    """
    rgb = image_msg_to_rgb(rgb_msg)
    depth = None
    if depth_msg is not None:
        raw = image_msg_to_numpy(depth_msg)
        integer = np.issubdtype(raw.dtype, np.integer)
        depth = decode_depth(raw, depth_msg.encoding, scale=depth_scale if integer else None,
                             min_m=min_depth, max_m=max_depth)
        if depth.shape != rgb.shape[:2]:
            raise ValueError(f"depth is {depth.shape[1]}x{depth.shape[0]} but colour is {rgb.shape[1]}x{rgb.shape[0]}: "
                             "subscribe to the depth aligned to colour")
    camera = intrinsics_from_msg(info)
    up_vec = np.asarray(up, dtype=np.float64) if up is not None and len(up) == 3 else None
    return RGBDFrame(rgb=rgb, depth=depth, camera=camera, stamp_ns=stamp_to_ns(rgb_msg.header.stamp),
                     up=up_vec, frame_id=rgb_msg.header.frame_id)
