"""reward node: one rgpt_ros/msg/SpatialReward per synchronised RGB + depth + regions frame.

Thin adapter over :class:`rgpt_ros.reward.pipeline.RewardPipeline` (the same code annotates bags):
colour + depth + camera_info -> RGBDFrame and its gravity (``prepare``, done while the tracker works on
the image) -> + the tracker's regions -> measurement + shaping -> SpatialReward. A frame that cannot be
measured publishes ``valid=false`` with the reason in ``status`` (and a throttled warning), never a
made-up number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

from geometry_msgs.msg import Point
from rclpy.node import Node
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from rgpt_ros.geometry.scene import SceneGeometry
from rgpt_ros.msg import SpatialReward
from rgpt_ros.reward.pipeline import RewardPipeline
from rgpt_ros.reward.shaping import RewardConfig
from rgpt_ros.ros.conversions import checked_region, frame_from_msgs, header_msg, numpy_to_image_msg
from rgpt_ros.ros.intra_process import IntraProcessBus
from rgpt_ros.ros.node_base import declare_and_validate, up_vector_or_none
from rgpt_ros.ros.parameters import params_of
from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS, SENSOR_QOS
from rgpt_ros.ros.rgbd_input import DEPTH, INFO, REGIONS, RGB, RGBDInput
from rgpt_ros.sync import MatchedSet
from rgpt_ros.visualize import draw_regions

REWARD_PREFIX = "reward."


@dataclass
class PreparedFrame:
    """A camera frame waiting for its regions: the pipeline's ``prepare()`` result, or why it has none."""

    header: Header
    geometry: Optional[SceneGeometry]
    error: str = ""


class RewardNode(Node):
    """Measures the configured region pair in every synchronised frame and publishes the shaped reward."""

    def __init__(self, *, bus: Optional[IntraProcessBus] = None, **kwargs: Any) -> None:
        super().__init__("rgpt_reward", **kwargs)
        self.params = declare_and_validate(self, params_of("reward").values())
        shaping = {k[len(REWARD_PREFIX):]: v for k, v in self.params.items() if k.startswith(REWARD_PREFIX)}
        self.up = up_vector_or_none(self.params["up_vector"])
        self.pipeline = RewardPipeline(pair=tuple(self.params["pair"]), config=RewardConfig.from_dict(shaping),
                                       metric=self.params["metric"], up=self.up, track=False)
        self.publisher = self.create_publisher(SpatialReward, self.params["reward_topic"], RELIABLE_OUTPUT_QOS)
        self.debug_publisher = (self.create_publisher(Image, "~/debug_image", SENSOR_QOS)
                                if self.params["debug_image"] else None)
        self.input = RGBDInput(self, self.params, self._prepare, on_regions=self._on_frame, bus=bus)
        self.published = 0
        self.create_timer(5.0, self._report_missing_inputs)
        self.get_logger().info(f"reward for {self.params['pair'][0]} -> {self.params['pair'][1]} "
                               f"({self.params['metric']}) on {self.params['reward_topic']}")

    def _prepare(self, matched: MatchedSet) -> PreparedFrame:
        """Colour + depth are in: decode them and fit gravity now, while the tracker works on the image."""
        header = header_msg(matched[RGB].header)
        try:
            frame = frame_from_msgs(matched[RGB], matched[DEPTH], matched[INFO], depth_scale=self.params["depth_scale"],
                                    up=self.up, min_depth_m=self.params["min_depth_m"],
                                    max_depth_m=self.params["max_depth_m"])
        except ValueError as exc:
            return PreparedFrame(header, None, f"bad input: {exc}")
        return PreparedFrame(header, self.pipeline.prepare(frame))

    def _on_frame(self, prepared: PreparedFrame, regions_msg: Any) -> None:
        msg = SpatialReward(header=prepared.header, region_a=self.params["pair"][0],
                            region_b=self.params["pair"][1], metric=self.params["metric"], source="geometric")
        if prepared.geometry is None:
            self._publish_invalid(msg, prepared.error)
            return
        try:
            regions = [checked_region(r) for r in regions_msg.regions]
        except ValueError as exc:
            self._publish_invalid(msg, f"bad input: {exc}")
            return
        frame = prepared.geometry.frame
        result = self.pipeline.step(frame, regions=regions, prepared=prepared.geometry)
        msg.valid, msg.success = bool(result.valid), bool(result.success)
        msg.distance = float(result.distance) if result.valid else math.nan
        msg.reward = float(result.reward) if result.valid else math.nan
        msg.progress = float(result.progress) if result.valid else 0.0
        msg.status = result.status
        msg.gravity_from_plane = bool(getattr(result, "gravity_from_plane", False))
        centroids = getattr(result, "centroids", {}) or {}
        for field_name, region_id in (("centroid_a", msg.region_a), ("centroid_b", msg.region_b)):
            xyz = centroids.get(region_id)
            if xyz is not None:
                setattr(msg, field_name, Point(x=float(xyz[0]), y=float(xyz[1]), z=float(xyz[2])))
        if not result.valid:
            self.get_logger().warning(f"invalid frame: {result.status}",
                                      throttle_duration_sec=self.params["log_throttle_s"])
        self.publisher.publish(msg)
        self.published += 1
        if self.debug_publisher is not None:
            caption = f"{msg.region_a}->{msg.region_b}: " + (f"{msg.distance * 100:.1f} cm  r={msg.reward:.3f}"
                                                             if msg.valid else f"invalid ({msg.status})")
            self.debug_publisher.publish(numpy_to_image_msg(draw_regions(frame.rgb, regions, caption), "rgb8",
                                                            msg.header))

    def _report_missing_inputs(self) -> None:
        missing = self.input.missing_inputs()
        if missing:
            topics = {RGB: "rgb_topic", DEPTH: "depth_topic", INFO: "camera_info_topic", REGIONS: "regions_topic"}
            self.get_logger().warning("no reward yet: nothing received on "
                                      + ", ".join(self.params[topics[name]] for name in missing))

    def _publish_invalid(self, msg: SpatialReward, reason: str) -> None:
        msg.valid, msg.distance, msg.reward, msg.status = False, math.nan, math.nan, reason
        self.get_logger().warning(f"invalid frame: {reason}", throttle_duration_sec=self.params["log_throttle_s"])
        self.publisher.publish(msg)
        self.published += 1
