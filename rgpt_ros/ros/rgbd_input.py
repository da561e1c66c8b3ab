"""Synchronised camera input of a node: colour + depth + camera_info, then optionally the tracker's regions."""

from __future__ import annotations

from typing import Any, Callable, Optional

from rclpy.callback_groups import CallbackGroup
from rclpy.node import Node
from rclpy.qos import QoSProfile
from sensor_msgs.msg import CameraInfo

from rgpt_ros.msg import RegionArray
from rgpt_ros.ros.intra_process import IntraProcessBus, subscribe as subscribe_through
from rgpt_ros.ros.pull_group import PullGroup
from rgpt_ros.ros.qos import CAMERA_INFO_QOS, RELIABLE_OUTPUT_QOS, SENSOR_QOS, with_depth
from rgpt_ros.sync import ApproximateTimeSynchronizer, MatchedSet

RGB, DEPTH, REGIONS, INFO = "rgb", "depth", "regions", "camera_info"
CAMERA = "camera"  # a camera frame (whatever ``on_camera`` made of it) waiting for its regions


class RGBDInput:
    """Subscribes to the camera topics of ``params`` and matches them in two stages.

    1. ``rgb`` + ``depth`` (sensor-data QoS, decoded by :mod:`rgpt_ros.ros.image_subscription`) with the
       latest ``camera_info`` attached -> ``on_camera(MatchedSet)``, as soon as both images are in.
    2. With ``on_regions``: what ``on_camera`` returned + the tracker's ``RegionArray`` of the same image
       -> ``on_regions(camera_result, regions_msg)``.

    Work that needs no regions (decoding, the gravity fit) thus runs in ``on_camera`` while the tracker
    is still busy with the image, and only the region-dependent part waits for it.

    Executor wake-ups cost about 1 ms of CPU per message (see :mod:`rgpt_ros.ros.pull_group`), so
    camera_info does not wake the node: it is pulled from its reader whenever an image or regions do
    (either image may come last, and regions may come before the colour image does, so those three
    wake it). With ``pull_only`` nothing wakes the node: every stream waits in its reader (the last
    ``history`` messages) until ``pull()``, e.g. when a service call needs a frame.

    In a container (``bus`` given), the scheduled streams go through the :mod:`intra-process bus
    <rgpt_ros.ros.intra_process>`: regions from a tracker in the same process arrive in-process, and the
    colour image shares one reader with the other nodes.
    """

    def __init__(self, node: Node, params: dict[str, Any], on_camera: Callable[[MatchedSet], Any], *,
                 on_regions: Optional[Callable[[Any, Any], None]] = None, pull_only: bool = False,
                 history: Optional[int] = None, callback_group: Optional[CallbackGroup] = None,
                 bus: Optional[IntraProcessBus] = None) -> None:
        queue, slop = max(params["sync_queue_size"], history or 0), params["sync_slop_s"]
        self.camera_sync = ApproximateTimeSynchronizer([RGB, DEPTH], queue_size=queue, slop=slop, static=[INFO])
        self.region_sync = (ApproximateTimeSynchronizer([CAMERA, REGIONS], queue_size=queue, slop=slop)
                            if on_regions is not None else None)
        self.received = {name: 0 for name in (RGB, DEPTH, INFO) + ((REGIONS,) if on_regions else ())}
        self.pulled = PullGroup()

        def on_camera_set(matched: MatchedSet) -> None:
            result = on_camera(matched)
            if self.region_sync is not None:
                self.region_sync.add(CAMERA, matched.stamp_ns, result)

        self.camera_sync.register_callback(on_camera_set)
        if self.region_sync is not None:
            self.region_sync.register_callback(lambda matched: on_regions(matched[CAMERA], matched[REGIONS]))

        def subscribe(name: str, topic: str, qos: QoSProfile, sync: ApproximateTimeSynchronizer, *,
                      wakes: bool, msg_type: Any = None) -> None:
            scheduled = wakes and not pull_only

            def feed(msg) -> None:
                if scheduled:
                    self.pulled.pull()  # camera_info that arrived with it
                self.received[name] += 1
                sync.add_msg(name, msg)

            if scheduled:
                through, group = bus, callback_group
            else:  # pulled: always a reader of this node's own
                through, group, qos = None, self.pulled, (with_depth(qos, history) if history else qos)
            subscribe_through(node, through, msg_type, params[topic], feed, qos, callback_group=group,
                              image=msg_type is None)

        subscribe(INFO, "camera_info_topic", CAMERA_INFO_QOS, self.camera_sync, wakes=False, msg_type=CameraInfo)
        # Depth before colour: when both wait, the executor serves them in this order, and the colour image
        # (which the tracker needs too) then completes the camera frame.
        subscribe(DEPTH, "depth_topic", SENSOR_QOS, self.camera_sync, wakes=True)
        subscribe(RGB, "rgb_topic", SENSOR_QOS, self.camera_sync, wakes=True)
        if self.region_sync is not None:
            subscribe(REGIONS, "regions_topic", RELIABLE_OUTPUT_QOS, self.region_sync, wakes=True,
                      msg_type=RegionArray)

    def pull(self) -> int:
        """Deliver every message waiting in the pulled streams' readers (from one thread at a time)."""
        return self.pulled.pull()

    def missing_inputs(self) -> list[str]:
        """Streams that have delivered nothing yet (for 'waiting for ...' diagnostics)."""
        self.pull()
        return [name for name, count in self.received.items() if count == 0]
