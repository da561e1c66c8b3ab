"""Conversions between rgpt_ros / sensor_msgs messages and the ROS-free core types."""

from __future__ import annotations

import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import Image, RegionOfInterest
from std_msgs.msg import Header

from rgpt_ros.bags.messages import frame_from_msgs, intrinsics_from_msg, region_from_msg
from rgpt_ros.geometry.regions import Region, RegionError
from rgpt_ros.imaging import numpy_to_image_fields
from rgpt_ros.msg import Region as RegionMsg
from rgpt_ros.sync import stamp_to_ns

__all__ = ["intrinsics_from_msg", "region_from_msg", "checked_region", "region_to_msg", "frame_from_msgs",
           "numpy_to_image_msg", "stamp_to_ns", "ns_to_stamp", "header_msg"]


def ns_to_stamp(ns: int) -> Time:
    return Time(sec=int(ns // 1_000_000_000), nanosec=int(ns % 1_000_000_000))


def header_msg(header) -> Header:
    """Any header with ``stamp.sec/nanosec`` and ``frame_id`` (rclpy or rosbags-decoded) -> rclpy Header."""
    if isinstance(header, Header):
        return header
    return Header(stamp=Time(sec=int(header.stamp.sec), nanosec=int(header.stamp.nanosec)),
                  frame_id=str(header.frame_id))


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
        msg.header = header_msg(header)
    return msg
