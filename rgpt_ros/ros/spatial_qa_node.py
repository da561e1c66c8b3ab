"""spatial_qa node: answers rgpt_ros/srv/SpatialQuery on the latest or a requested frame.

The camera streams cost nothing per frame: they wait in their DDS readers, which keep the newest
``buffer_size`` messages of each (old frames are dropped, never queued), and each question pulls what
arrived into the synchronised frame buffer (:mod:`rgpt_ros.ros.pull_group`). The service lives on a
companion node (``<name>_service``) spun by its own executor in a lower-priority worker thread, so
answering — however slow the engine — never holds up the node's parameter services or the other
nodes' camera-rate work.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Any

from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node

from rgpt_ros.engines import SpatialEngine, make_engine
from rgpt_ros.frame_buffer import FrameBuffer, FrameLookupError
from rgpt_ros.geometry.regions import RegionError
from rgpt_ros.msg import RegionArray
from rgpt_ros.qa.references import resolve_references
from rgpt_ros.ros.launcher import lower_thread_priority
from rgpt_ros.ros.conversions import frame_from_msgs, ns_to_stamp, checked_region, stamp_to_ns
from rgpt_ros.ros.node_base import declare_and_validate, up_vector_or_none
from rgpt_ros.ros.parameters import SPATIAL_QA_PARAMS, ParameterError
from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS, with_depth
from rgpt_ros.ros.rgbd_input import DEPTH, INFO, RGB, RGBDInput
from rgpt_ros.srv import SpatialQuery
from rgpt_ros.sync import MatchedSet


@dataclass
class _BufferedFrame:
    rgb: Any
    depth: Any
    info: Any


class SpatialQANode(Node):
    """Serves spatial questions with the geometric engine (default) or the SpatialRGPT model."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("rgpt_spatial_qa", **kwargs)
        self.params = declare_and_validate(self, SPATIAL_QA_PARAMS)
        self.frames: FrameBuffer[_BufferedFrame] = FrameBuffer(self.params["buffer_size"])
        self.region_arrays: FrameBuffer[RegionArray] = FrameBuffer(self.params["buffer_size"])
        self._engines: dict[str, SpatialEngine] = {}
        self._engine_lock = threading.Lock()
        # Frames wait in the DDS readers (the newest buffer_size of each stream) until a question pulls them.
        self.input = RGBDInput(self, self.params, self._on_frame, pull_only=True, history=self.params["buffer_size"])
        self.create_subscription(RegionArray, self.params["regions_topic"], self._on_regions,
                                 with_depth(RELIABLE_OUTPUT_QOS, self.params["buffer_size"]),
                                 callback_group=self.input.pulled)
        # Own name, not subject to the process-wide `-r __node:=...` remap of the main node.
        self._service_node = Node(f"{self.get_name()}_service", context=self.context, use_global_arguments=False)
        self.service = self._service_node.create_service(SpatialQuery, self.params["service_name"], self._on_query)
        self._service_executor = SingleThreadedExecutor(context=self.context)
        self._service_executor.add_node(self._service_node)
        self._service_thread = threading.Thread(target=self._spin_service, name="spatial_query", daemon=True)
        self._service_thread.start()
        if self.params["backend"] == "spatialrgpt":
            # Load (and compile / capture) the model at start-up, not on the first question.
            engine = self._engine("spatialrgpt")
            getattr(engine, "warmup", lambda: None)()
        self.get_logger().info(f"serving {self.params['service_name']} (default backend {self.params['backend']})")

    def _spin_service(self) -> None:
        lower_thread_priority(self.params["service_niceness"])
        try:
            self._service_executor.spin()
        except ExternalShutdownException:
            pass

    def destroy_node(self) -> None:
        self._service_executor.shutdown(timeout_sec=2.0)
        self._service_thread.join(timeout=5.0)
        self._service_node.destroy_node()
        super().destroy_node()

    # -- inputs -------------------------------------------------------------------------------
    def _on_frame(self, matched: MatchedSet) -> None:
        self.frames.add(matched.stamp_ns, _BufferedFrame(matched[RGB], matched[DEPTH], matched[INFO]))

    def _on_regions(self, msg: RegionArray) -> None:
        self.region_arrays.add(stamp_to_ns(msg.header.stamp), msg)

    # -- service ------------------------------------------------------------------------------
    def _engine(self, backend: str) -> SpatialEngine:
        with self._engine_lock:
            if backend not in self._engines:
                options: dict[str, Any] = {}
                if backend == "geometric":
                    options["up"] = up_vector_or_none(self.params["up_vector"])
                elif backend == "spatialrgpt":
                    if not self.params["checkpoint"]:
                        raise ParameterError("backend 'spatialrgpt' needs the 'checkpoint' parameter "
                                             "(a checkpoint folder or hub id)")
                    options.update(checkpoint=self.params["checkpoint"], device=self.params["device"],
                                   max_new_tokens=self.params["max_new_tokens"])
                self._engines[backend] = make_engine(backend, **options)
            return self._engines[backend]

    def _on_query(self, request: SpatialQuery.Request, response: SpatialQuery.Response) -> SpatialQuery.Response:
        response.value = math.nan
        try:
            answer, stamp_ns = self._answer(request)
        except (FrameLookupError, RegionError, ValueError) as exc:
            response.success, response.message = False, str(exc)
            self.get_logger().warning(f"query {request.question!r} failed: {exc}")
            return response
        response.success = answer.success
        response.message = answer.message
        response.answer = answer.text
        response.value = float(answer.value) if answer.value is not None else math.nan
        response.unit = answer.unit
        response.category = answer.category or ""
        response.frame_stamp = ns_to_stamp(stamp_ns)
        return response

    def _answer(self, request: SpatialQuery.Request):
        if not request.question.strip():
            raise ValueError("empty question")
        backend = request.backend or self.params["backend"]
        engine = self._engine(backend)
        self.input.pull()
        tolerance = int(self.params["stamp_tolerance_s"] * 1e9)
        stamp_ns, buffered = self.frames.get(stamp_to_ns(request.stamp), tolerance)
        frame = frame_from_msgs(buffered.rgb, buffered.depth, buffered.info, depth_scale=self.params["depth_scale"],
                           up=up_vector_or_none(self.params["up_vector"]), min_depth_m=self.params["min_depth_m"],
                           max_depth_m=self.params["max_depth_m"])
        regions = self._regions_for(request, stamp_ns, frame.height, frame.width, tolerance)
        return engine.answer(frame, regions, request.question), stamp_ns

    def _regions_for(self, request: SpatialQuery.Request, stamp_ns: int, height: int, width: int,
                     tolerance: int) -> list:
        """The request's regions, else the tracked ones nearest the frame; a lost region the question names is an error."""
        if request.regions:
            return [checked_region(m, height, width) for m in request.regions]
        try:
            _, array = self.region_arrays.nearest(stamp_ns, tolerance)
        except FrameLookupError:
            try:
                _, array = self.region_arrays.latest()
            except FrameLookupError:
                raise FrameLookupError("no regions in the request and none tracked yet "
                                       f"(nothing on {self.params['regions_topic']})") from None
        regions = [checked_region(m) for m in array.regions]
        named = resolve_references(request.question, regions).distinct
        lost = [regions[i].id for i in named if not regions[i].tracked]
        if lost:
            raise RegionError(f"region(s) {lost} are not tracked in this frame")
        return regions
