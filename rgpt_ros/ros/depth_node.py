"""``rgpt_depth``: colour image in, Depth Anything depth out (for RGB-only cameras).

Subscribes ``rgb_topic`` (sensor-data QoS). A *metric* checkpoint publishes ``32FC1`` metres on
``depth_topic`` (what the reward / spatial-QA nodes read; ``reward.launch.py use_depth_estimation:=true``
wires it). A *relative* checkpoint predicts unitless inverse depth (near = large): it is published as
``32FC1`` on ``~/relative_depth`` only, never on ``depth_topic``, since it is not metres. Every output
carries the colour image's header (stamp and frame), so the synchroniser pairs it with that image.
"""

from __future__ import annotations

import time
from typing import Any, Optional

import numpy as np
import torch
from rclpy.node import Node
from sensor_msgs.msg import Image

from rgpt_ros.accel.parts import torch_dtype
from rgpt_ros.imaging import image_msg_to_rgb
from rgpt_ros.ros.conversions import numpy_to_image_msg
from rgpt_ros.ros.image_subscription import create_image_subscription
from rgpt_ros.ros.node_base import declare_and_validate
from rgpt_ros.ros.parameters import ParameterError, params_of
from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS, SENSOR_QOS

RELATIVE_TOPIC = "~/relative_depth"


DEPTH_PARAMS = tuple(params_of("depth").values())


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when available, else cpu; anything else as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(name)
    except RuntimeError as err:
        raise ParameterError(f"parameter 'device' = {name!r}: {err}") from err


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    if name == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    return torch_dtype(name)


def depth_image_msg(depth: np.ndarray, header: Any) -> Image:
    """(H, W) float32 -> ``32FC1`` Image carrying ``header``."""
    return numpy_to_image_msg(np.ascontiguousarray(depth, dtype=np.float32), "32FC1", header)


class DepthNode(Node):
    """Colour -> Depth Anything -> depth image (see the module docstring for topics)."""

    def __init__(self, **node_kwargs: Any) -> None:
        super().__init__("rgpt_depth", **node_kwargs)
        from rgpt_ros.depth import DepthEstimator, DepthModelNotFoundError

        self.params = declare_and_validate(self, DEPTH_PARAMS)
        device = resolve_device(self.params["device"])
        size = int(self.params["input_size"]) or None
        try:  # on CUDA with a fixed size, resize on the GPU too (saves ~10 ms of CPU work per VGA frame)
            self.estimator = DepthEstimator.from_pretrained(
                self.params["model"], device=device, dtype=resolve_dtype(self.params["dtype"], device),
                input_size=size, device_preprocess=device.type == "cuda" and size is not None)
        except (DepthModelNotFoundError, ValueError) as err:
            raise ParameterError(f"parameter 'model' = {self.params['model']!r}: {err}") from err
        backend = self.params["backend"]
        if size is None and backend not in ("auto", "torch-eager"):
            raise ParameterError(f"parameter 'backend' = {backend!r} needs input_size > 0 (static shapes)")
        if size is not None and backend != "torch-eager":
            self.estimator.accelerate(backend, cache_dir=self.params["cache_dir"] or None,
                                      fp16=self.estimator.dtype != torch.float32,
                                      progress=lambda text: self.get_logger().info(text))
        runtime = self.estimator.runner.provider if self.estimator.runner else "torch-eager"
        if self.estimator.metric:
            self.publisher = self.create_publisher(Image, self.params["depth_topic"], RELIABLE_OUTPUT_QOS)
            target = f"metric depth (max {self.estimator.max_depth} m) on {self.publisher.topic_name}"
        else:
            self.publisher = self.create_publisher(Image, RELATIVE_TOPIC, RELIABLE_OUTPUT_QOS)
            target = (f"RELATIVE inverse depth on {self.publisher.topic_name}; nothing is published on "
                      f"{self.params['depth_topic']} (use a metric checkpoint for the reward pipeline)")
            self.get_logger().warning(f"{self.params['model']} is a relative-depth model")
        self.subscription = create_image_subscription(self, self.params["rgb_topic"], self._on_image, SENSOR_QOS)
        self.frames = 0
        self._last_log = 0.0
        self.get_logger().info(f"depth from {self.params['rgb_topic']} with {self.params['model']} on {device} "
                               f"({runtime}): {target}")

    def _on_image(self, msg: Any) -> None:
        started = time.perf_counter()
        try:
            prediction = self.estimator.predict(image_msg_to_rgb(msg))
        except ValueError as err:
            self._throttled_warning(f"skipping colour image ({msg.encoding}, {msg.width}x{msg.height}): {err}")
            return
        self.publisher.publish(depth_image_msg(prediction.depth, msg.header))
        self.frames += 1
        now = time.monotonic()
        if now - self._last_log >= self.params["log_throttle_s"]:
            self._last_log = now
            self.get_logger().info(f"{self.frames} frames; last took {1e3 * (time.perf_counter() - started):.1f} ms")

    def _throttled_warning(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last_log >= self.params["log_throttle_s"]:
            self._last_log = now
            self.get_logger().warning(text)


def main(args: Optional[list[str]] = None) -> int:
    """``rgpt-depth`` / ``ros2 run rgpt_ros depth``."""
    from rgpt_ros.ros.launcher import run_node

    return run_node("depth", args)


if __name__ == "__main__":
    raise SystemExit(main())
