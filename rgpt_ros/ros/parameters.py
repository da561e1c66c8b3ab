"""Declared parameters of every rgpt_ros node, ROS-free.

One table per node: the nodes declare exactly these (with descriptions and validation), the
launch files and ``config/*.yaml`` are checked against them in tests, and the README's parameter
reference is generated from them (``python -m rgpt_ros.ros.parameters``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence

REALSENSE_RGB = "/camera/camera/color/image_raw"
REALSENSE_DEPTH = "/camera/camera/aligned_depth_to_color/image_raw"
REALSENSE_INFO = "/camera/camera/color/camera_info"


class ParameterError(ValueError):
    """A parameter value that the node cannot use."""


@dataclass(frozen=True)
class Param:
    """One node parameter: name, default (its type is the parameter's type), description, checks."""

    name: str
    default: Any
    description: str
    choices: Optional[Sequence[Any]] = None
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    check: Optional[Callable[[Any], Optional[str]]] = field(default=None, compare=False)

    def validate(self, value: Any) -> Any:
        """Return ``value`` or raise ParameterError saying what is wrong and what is allowed."""
        if self.choices is not None and value not in self.choices:
            raise ParameterError(f"parameter {self.name!r} = {value!r}; choose one of {list(self.choices)}")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if isinstance(self.default, float) and math.isnan(value):
                raise ParameterError(f"parameter {self.name!r} must not be NaN")
            if self.minimum is not None and value < self.minimum:
                raise ParameterError(f"parameter {self.name!r} = {value!r} is below the minimum {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise ParameterError(f"parameter {self.name!r} = {value!r} is above the maximum {self.maximum}")
        if self.check is not None:
            problem = self.check(value)
            if problem:
                raise ParameterError(f"parameter {self.name!r} = {value!r}: {problem}")
        return value


def _up_vector_problem(value: Sequence[float]) -> Optional[str]:
    if len(value) == 0:
        return None
    if len(value) != 3 or not any(abs(v) > 0 for v in value):
        return "must be empty (estimate from the support plane) or 3 numbers, not all zero"
    return None


def _pair_problem(value: Sequence[str]) -> Optional[str]:
    if len(value) != 2 or not all(value) or value[0] == value[1]:
        return "must name two different region ids, e.g. ['fingertip', 'cube']"
    return None


def _region_specs_problem(value: Sequence[str]) -> Optional[str]:
    from rgpt_ros.geometry.regions import RegionError, parse_box_specs

    try:
        parse_box_specs(list(value))
    except RegionError as exc:
        return str(exc)
    return None


CAMERA_PARAMS: tuple[Param, ...] = (
    Param("rgb_topic", REALSENSE_RGB, "Colour image topic (rgb8, bgr8, mono8, ...)."),
    Param("depth_topic", REALSENSE_DEPTH,
          "Depth image registered to colour (16UC1 millimetres or 32FC1 metres); the depth node's output when "
          "depth estimation is used."),
    Param("camera_info_topic", REALSENSE_INFO, "CameraInfo of the colour camera (K is used; images are rectified)."),
    Param("depth_scale", 0.001, "Metres per unit of 16UC1 depth (RealSense: 0.001).", minimum=1e-6, maximum=1.0),
    Param("min_depth_m", 0.1, "Depth below this is treated as invalid.", minimum=0.0),
    Param("max_depth_m", 10.0, "Depth above this is treated as invalid.", minimum=0.01),
    Param("up_vector", [0.0], "Gravity 'up' in the camera optical frame (x right, y down, z forward), e.g. from an "
          "IMU; [0.0] or [] = estimate from the support plane each frame.",
          check=lambda v: None if list(v) in ([0.0], []) else _up_vector_problem(v)),
)

SYNC_PARAMS: tuple[Param, ...] = (
    Param("regions_topic", "/rgpt/regions", "RegionArray from the tracker."),
    Param("sync_slop_s", 0.025, "Largest stamp difference (s) between colour, depth and regions of one frame.",
          minimum=0.0, maximum=1.0),
    Param("sync_queue_size", 15, "Messages kept per stream while waiting for a match.", minimum=1, maximum=1000),
)

TRACKER_PARAMS: tuple[Param, ...] = (
    Param("rgb_topic", REALSENSE_RGB, "Colour image topic to track in."),
    Param("regions", [""], "Initial regions as 'id:x1,y1,x2,y2' pixel boxes in the first image, e.g. "
          "['fingertip:300,200,330,230', 'cube:400,260,460,320']; [''] = wait for ~/set_regions.",
          check=_region_specs_problem),
    Param("regions_topic", "/rgpt/regions", "Output RegionArray (the image's header)."),
    Param("publish_masks", False, "Attach a mono8 mask to every region (larger messages)."),
    Param("min_confidence", 0.35, "Below this tracking confidence a region is reported tracked=false.",
          minimum=0.0, maximum=1.0),
    Param("debug_image", False, "Publish ~/debug_image with the tracked boxes drawn."),
)

REWARD_PARAMS: tuple[Param, ...] = CAMERA_PARAMS + SYNC_PARAMS + (
    Param("pair", ["fingertip", "cube"], "The two region ids whose distance drives the reward (a, b).",
          check=_pair_problem),
    Param("metric", "closest", "Distance: 'closest' (robust closest surfaces), 'centroid', 'mean_nn' (reference "
          "mean bidirectional nearest-neighbour).", choices=("closest", "centroid", "mean_nn")),
    Param("reward_topic", "/rgpt/reward", "Output SpatialReward topic."),
    Param("debug_image", False, "Publish ~/debug_image with regions and the current distance drawn."),
    Param("log_throttle_s", 2.0, "Minimum seconds between repeated warnings about invalid frames.", minimum=0.0),
)

SPATIAL_QA_PARAMS: tuple[Param, ...] = CAMERA_PARAMS + SYNC_PARAMS + (
    Param("backend", "geometric", "Default answer engine: 'geometric' (metric depth) or 'spatialrgpt' (the model).",
          choices=("geometric", "spatialrgpt")),
    Param("checkpoint", "", "SpatialRGPT checkpoint folder or hub id (backend 'spatialrgpt')."),
    Param("device", "auto", "Torch device for the model: 'auto', 'cpu', 'cuda', 'cuda:1', ...."),
    Param("max_new_tokens", 128, "Longest model answer in tokens.", minimum=1, maximum=2048),
    Param("buffer_size", 30, "Synchronised frames kept for stamp look-ups.", minimum=1, maximum=1000),
    Param("stamp_tolerance_s", 0.05, "A requested stamp matches a buffered frame within this many seconds.",
          minimum=0.0),
    Param("service_name", "/rgpt/spatial_query", "Name of the SpatialQuery service."),
    Param("service_niceness", 10, "Nice increment of the thread answering questions, so the camera-rate reward "
          "stream keeps the CPU under load (0 = same priority).", minimum=0, maximum=19),
)

def _model_problem(value: str) -> Optional[str]:
    return None if value.strip() else "set it to a Depth Anything checkpoint folder or hub id"


def depth_params() -> tuple[Param, ...]:
    """Parameters of the depth node (the runtime names come from ``rgpt_ros.accel``, imported here lazily)."""
    from rgpt_ros.accel import BACKENDS
    from rgpt_ros.ros.launch_plan import ESTIMATED_DEPTH_TOPIC

    return (
        Param("rgb_topic", REALSENSE_RGB, "Colour image topic (rgb8, bgr8, mono8, ...)."),
        Param("depth_topic", ESTIMATED_DEPTH_TOPIC, "Output 32FC1 depth in metres (metric checkpoints only)."),
        Param("model", "", "Depth Anything V1/V2 checkpoint folder or hub id (metric, e.g. "
              "Depth-Anything-V2-Metric-Indoor-Small-hf, for depth_topic).", check=_model_problem),
        Param("device", "auto", "Torch device: 'auto' (cuda if available), 'cpu', 'cuda', 'cuda:1', ..."),
        Param("dtype", "auto", "Model precision: 'auto' (float16 on CUDA, float32 on CPU) or a dtype name.",
              choices=("auto", "float32", "float16", "bfloat16")),
        Param("input_size", 518, "Fixed square network input (multiple of 14) for static engines; 0 = the "
              "checkpoint's keep-aspect preprocessing (eager PyTorch only).", minimum=0, maximum=2044,
              check=lambda v: None if v % 14 == 0 else "must be 0 or a multiple of 14 (the ViT patch size)"),
        Param("backend", "auto", "Runtime: 'auto' (TensorRT > ORT-TensorRT > ORT-CUDA > CUDA graphs > ORT-CPU > "
              "eager) or one backend of rgpt_ros.accel.BACKENDS.", choices=("auto",) + tuple(BACKENDS)),
        Param("cache_dir", "", "ONNX / TensorRT engine cache folder; empty = $RGPT_CACHE_DIR or "
              "~/.cache/rgpt_ros/accel."),
        Param("log_throttle_s", 5.0, "Minimum seconds between repeated log lines.", minimum=0.0),
    )


def reward_params() -> tuple[Param, ...]:
    return REWARD_PARAMS + reward_shaping_params()


NODE_PARAMS: dict[str, Callable[[], tuple[Param, ...]]] = {
    "tracker": lambda: TRACKER_PARAMS,
    "reward": reward_params,
    "spatial_qa": lambda: SPATIAL_QA_PARAMS,
    "depth": depth_params,
}


def params_of(node: str) -> dict[str, Param]:
    """The declared parameters of ``node`` by name."""
    if node not in NODE_PARAMS:
        raise KeyError(f"no node {node!r}; nodes: {sorted(NODE_PARAMS)}")
    return {p.name: p for p in NODE_PARAMS[node]()}


def reward_shaping_params() -> tuple[Param, ...]:
    """Reward-shaping parameters, derived from ``RewardConfig`` so there is one source of truth."""
    import dataclasses

    from rgpt_ros.reward.shaping import RewardConfig

    out = []
    for f in dataclasses.fields(RewardConfig):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        out.append(Param(f"reward.{f.name}", default, f.metadata.get("help", f.name.replace("_", " ")),
                         choices=f.metadata.get("choices")))
    return tuple(out)


def markdown_table(node: str) -> str:
    """The parameter reference of one node as a Markdown table."""
    rows = ["| parameter | default | description |", "| --- | --- | --- |"]
    for p in params_of(node).values():
        rows.append(f"| `{p.name}` | `{p.default!r}` | {p.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    for name in NODE_PARAMS:
        print(f"### {name}\n\n{markdown_table(name)}\n")
