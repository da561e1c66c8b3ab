"""Play RGB-D frames over DDS as a RealSense-like camera would (demo, tests, latency benchmark)."""

from __future__ import annotations

import struct
import threading
import time
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
from rclpy.node import Node
from rclpy.serialization import serialize_message
from sensor_msgs.msg import CameraInfo, Image
from std_msgs.msg import Header

from rgpt_ros.geometry.camera import CameraIntrinsics
from rgpt_ros.geometry.depth import encode_depth_mm
from rgpt_ros.ros.conversions import ns_to_stamp, numpy_to_image_msg
from rgpt_ros.ros.parameters import REALSENSE_DEPTH, REALSENSE_INFO, REALSENSE_RGB
from rgpt_ros.ros.qos import SENSOR_QOS


@dataclass
class PlayerFrame:
    """One camera frame to publish: RGB uint8, depth in metres (NaN invalid), intrinsics."""

    rgb: np.ndarray
    depth_m: Optional[np.ndarray]
    camera: CameraIntrinsics


def camera_info_msg(camera: CameraIntrinsics, header: Header) -> CameraInfo:
    info = CameraInfo(header=header, width=camera.width, height=camera.height, distortion_model="plumb_bob")
    info.k = [float(v) for v in camera.k_matrix().reshape(-1)]
    info.p = [camera.fx, 0.0, camera.cx, 0.0, 0.0, camera.fy, camera.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    info.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    info.d = [0.0] * 5
    return info


class StampedBuffer:
    """A serialised message (``serialize_message(msg)``) republished with a new header stamp written into its bytes.

    A camera driver hands DDS a ready buffer; serialising a 640x480 image in Python for every frame would
    cost the player ~0.8 ms that a real camera does not spend (and that latency measurements would count).
    The stamp is the message's first field, right after the 4-byte little-endian CDR encapsulation header.
    """

    _STAMP = struct.Struct("<iI")

    def __init__(self, serialized: bytes) -> None:
        self.buffer = bytearray(serialized)
        if len(self.buffer) < 12 or not self.buffer[1] & 1:
            raise ValueError(f"expected a little-endian CDR buffer, got representation {bytes(self.buffer[:2])!r}")

    def stamped(self, stamp_ns: int) -> bytes:
        self._STAMP.pack_into(self.buffer, 4, int(stamp_ns // 1_000_000_000), int(stamp_ns % 1_000_000_000))
        return bytes(self.buffer)


class EpisodePlayer:
    """Publishes colour (rgb8), depth (16UC1 mm) and camera_info on a node at a fixed rate.

    Messages are built before playback so publishing is what is timed; ``publish_times_ns``
    records the wall-clock publish time of every colour stamp (for latency measurements).
    """

    def __init__(self, node: Node, frames: Sequence[PlayerFrame], *, rate_hz: float = 30.0,
                 rgb_topic: str = REALSENSE_RGB, depth_topic: str = REALSENSE_DEPTH, info_topic: str = REALSENSE_INFO,
                 frame_id: str = "camera_color_optical_frame", depth_lag_ns: int = 2_000_000,
                 start_stamp_ns: Optional[int] = None) -> None:
        self.node = node
        self.rate_hz = rate_hz
        self.rgb_pub = node.create_publisher(Image, rgb_topic, SENSOR_QOS)
        self.depth_pub = node.create_publisher(Image, depth_topic, SENSOR_QOS)
        self.info_pub = node.create_publisher(CameraInfo, info_topic, SENSOR_QOS)
        self.depth_lag_ns = depth_lag_ns
        start = start_stamp_ns if start_stamp_ns is not None else time.time_ns()
        self.stamps_ns: list[int] = []
        self._messages = []
        for index, frame in enumerate(frames):
            stamp = start + int(index * 1e9 / rate_hz)
            header = Header(stamp=ns_to_stamp(stamp), frame_id=frame_id)
            depth_header = Header(stamp=ns_to_stamp(stamp + depth_lag_ns), frame_id=frame_id)
            rgb = numpy_to_image_msg(frame.rgb, "rgb8", header)
            depth = (numpy_to_image_msg(encode_depth_mm(frame.depth_m), "16UC1", depth_header)
                     if frame.depth_m is not None else None)
            self._messages.append((StampedBuffer(serialize_message(rgb)),
                                   StampedBuffer(serialize_message(depth)) if depth is not None else None,
                                   StampedBuffer(serialize_message(camera_info_msg(frame.camera, header)))))
            self.stamps_ns.append(stamp)
        self.publish_times_ns: dict[int, int] = {}
        self.done = threading.Event()

    def publish_frame(self, index: int, stamp_ns: int) -> None:
        """Publish frame ``index`` once, stamped ``stamp_ns`` (camera_info, depth ``depth_lag_ns`` later, colour);
        ``publish_times_ns[stamp_ns]`` is when the colour image was handed to DDS."""
        rgb, depth, info = self._messages[index]
        self.info_pub.publish(info.stamped(stamp_ns))
        if depth is not None:
            self.depth_pub.publish(depth.stamped(stamp_ns + self.depth_lag_ns))
        rgb_bytes = rgb.stamped(stamp_ns)
        self.publish_times_ns[stamp_ns] = time.time_ns()
        self.rgb_pub.publish(rgb_bytes)

    def play(self, stop: Optional[threading.Event] = None, loops: int = 1) -> None:
        """Publish every frame at the configured rate (blocking; run in a thread).

        ``loops`` > 1 replays the frames with stamps that keep advancing (long soak runs).
        """
        period = 1.0 / self.rate_hz
        n = len(self._messages)
        next_time = time.perf_counter()
        for loop in range(loops):
            for i in range(n):
                if stop is not None and stop.is_set():
                    self.done.set()
                    return
                delay = next_time - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                self.publish_frame(i, self.stamps_ns[i] + int(loop * n * 1e9 / self.rate_hz))
                next_time += period
        self.done.set()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.play, name="episode_player", daemon=True)
        thread.start()
        return thread
