"""tracker node: follows named regions in the colour stream and publishes rgpt_ros/msg/RegionArray.

Regions start from the ``regions`` parameter ('id:x1,y1,x2,y2' boxes on the first image) or the
``~/set_regions`` service; every image yields one RegionArray with that image's header, lost
regions included with ``tracked=false`` (all of them for an image that cannot be tracked: an
unreadable encoding, a changed size). In a container (``bus``), a reward node of the same process
gets the RegionArray in-process before it goes out over DDS.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional

import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import Image

from rgpt_ros.geometry.regions import Region, RegionError, parse_box_specs
from rgpt_ros.imaging import image_msg_to_rgb
from rgpt_ros.msg import RegionArray
from rgpt_ros.ros.conversions import checked_region, header_msg, numpy_to_image_msg, region_to_msg
from rgpt_ros.ros.intra_process import IntraProcessBus, create_publisher, subscribe
from rgpt_ros.ros.node_base import declare_and_validate
from rgpt_ros.ros.parameters import TRACKER_PARAMS
from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS, SENSOR_QOS
from rgpt_ros.srv import SetRegions
from rgpt_ros.tracking.tracker import MultiRegionTracker, TrackerConfig
from rgpt_ros.visualize import draw_regions


class TrackerNode(Node):
    """Publishes the tracked regions of every colour image."""

    def __init__(self, *, bus: Optional[IntraProcessBus] = None, **kwargs: Any) -> None:
        super().__init__("rgpt_tracker", **kwargs)
        self.params = declare_and_validate(self, TRACKER_PARAMS)
        self.tracker = MultiRegionTracker(TrackerConfig(min_score=self.params["min_confidence"]))
        self._pending: Optional[tuple[list[Region], bool]] = None
        initial = parse_box_specs(self.params["regions"])
        if initial:
            self._pending = (initial, True)
        self._last_rgb: Optional[np.ndarray] = None
        self.publisher = create_publisher(self, bus, RegionArray, self.params["regions_topic"], RELIABLE_OUTPUT_QOS)
        self.debug_publisher = (self.create_publisher(Image, "~/debug_image", SENSOR_QOS)
                                if self.params["debug_image"] else None)
        subscribe(self, bus, Image, self.params["rgb_topic"], self._on_image, SENSOR_QOS, image=True)
        self.create_service(SetRegions, "~/set_regions", self._on_set_regions)
        waiting = f"regions {[r.id for r in initial]}" if initial else "regions from ~/set_regions"
        self.get_logger().info(f"tracking on {self.params['rgb_topic']}; waiting for {waiting}")

    def _on_image(self, msg: Any) -> None:
        header = header_msg(msg.header)
        try:
            rgb = image_msg_to_rgb(msg)
            if self._pending is not None:
                regions, replace_all = self._pending
                self._pending = None
                self.tracker.set_regions(rgb, regions, replace_all=replace_all)
                self.get_logger().info(f"initialised {[r.id for r in regions]} on image {msg.header.stamp.sec}."
                                       f"{msg.header.stamp.nanosec:09d}")
                tracked = self.tracker.regions()
            elif self._last_rgb is not None and self._last_rgb.shape != rgb.shape:
                raise ValueError(f"image size changed to {rgb.shape[1]}x{rgb.shape[0]}; set the regions again")
            else:
                tracked = self.tracker.update(rgb)
        except (ValueError, RegionError) as exc:
            # Still one RegionArray for this image: its regions are not tracked in it (consumers such as the
            # reward node then publish this frame as invalid instead of never hearing of it).
            self.get_logger().warning(f"image not tracked: {exc}", throttle_duration_sec=2.0)
            self._publish(header, [replace(r, tracked=False, score=0.0) for r in self.tracker.regions()], None)
            return
        self._last_rgb = rgb
        self._publish(header, tracked, rgb)

    def _publish(self, header: Any, regions: list[Region], rgb: Optional[np.ndarray]) -> None:
        """RegionArray for one image (boxes clipped to the last tracked image without ``rgb``; masks only with it)
        and the debug image."""
        shape = rgb.shape if rgb is not None else (self._last_rgb.shape if self._last_rgb is not None else (0, 0))
        masks = self.params["publish_masks"] and rgb is not None
        self.publisher.publish(RegionArray(header=header, regions=[region_to_msg(r, shape[0], shape[1], with_mask=masks)
                                                                   for r in regions]))
        if self.debug_publisher is not None and rgb is not None:
            self.debug_publisher.publish(numpy_to_image_msg(draw_regions(rgb, regions), "rgb8", header))

    def _on_set_regions(self, request: SetRegions.Request, response: SetRegions.Response) -> SetRegions.Response:
        try:
            height, width = self._last_rgb.shape[:2] if self._last_rgb is not None else (0, 0)
            regions = [checked_region(m, height, width) for m in request.regions]
            ids = [r.id for r in regions]
            if len(ids) != len(set(ids)):
                raise RegionError(f"region ids must be unique, got {ids}")
            if not regions and not request.reset:
                raise RegionError("no regions given (set reset=true to clear all)")
        except (RegionError, ValueError) as exc:
            response.success, response.message = False, str(exc)
            return response
        if not regions:
            self.tracker.reset()
            self._pending = None
            response.success, response.message = True, "all regions cleared"
            return response
        # Applied on the next image, in the image callback (same callback group: no race).
        self._pending = (regions, bool(request.reset))
        response.success = True
        response.message = f"{ids} will be initialised on the next image" + (" (others dropped)" if request.reset else "")
        return response
