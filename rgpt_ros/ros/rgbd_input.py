"""Synchronised RGB + depth (+ regions) + camera_info subscriptions for a node."""

from __future__ import annotations

from typing import Any, Callable, Optional

from rclpy.callback_groups import CallbackGroup
from rclpy.node import Node
from sensor_msgs.msg import CameraInfo, Image

from rgpt_ros.msg import RegionArray
from rgpt_ros.ros.qos import CAMERA_INFO_QOS, RELIABLE_OUTPUT_QOS, SENSOR_QOS
from rgpt_ros.sync import ApproximateTimeSynchronizer, MatchedSet

RGB, DEPTH, REGIONS, INFO = "rgb", "depth", "regions", "camera_info"


class RGBDInput:
    """Subscribes to the camera topics of ``params`` and calls ``on_frame(MatchedSet)`` per matched set.

    Streams: ``rgb`` and ``depth`` (sensor-data QoS), optionally ``regions`` (the tracker's RegionArray),
    and ``camera_info`` as a static stream (its latest value is attached to every set).
    """

    def __init__(self, node: Node, params: dict[str, Any], on_frame: Callable[[MatchedSet], None], *,
                 with_regions: bool, callback_group: Optional[CallbackGroup] = None) -> None:
        streams = [RGB, DEPTH] + ([REGIONS] if with_regions else [])
        self.sync = ApproximateTimeSynchronizer(streams, queue_size=params["sync_queue_size"],
                                                slop=params["sync_slop_s"], static=[INFO])
        self.sync.register_callback(on_frame)
        self.received = {name: 0 for name in streams + [INFO]}

        def feeder(name: str):
            def feed(msg) -> None:
                self.received[name] += 1
                self.sync.add_msg(name, msg)
            return feed

        group = callback_group
        self.subscriptions = [
            node.create_subscription(Image, params["rgb_topic"], feeder(RGB), SENSOR_QOS, callback_group=group),
            node.create_subscription(Image, params["depth_topic"], feeder(DEPTH), SENSOR_QOS, callback_group=group),
            node.create_subscription(CameraInfo, params["camera_info_topic"], feeder(INFO), CAMERA_INFO_QOS,
                                     callback_group=group),
        ]
        if with_regions:
            self.subscriptions.append(node.create_subscription(RegionArray, params["regions_topic"], feeder(REGIONS),
                                                               RELIABLE_OUTPUT_QOS, callback_group=group))

    def missing_inputs(self) -> list[str]:
        """Streams that have delivered nothing yet (for 'waiting for ...' diagnostics)."""
        return [name for name, count in self.received.items() if count == 0]
