"""What the launch files start, as plain data (ROS-free, so it is tested without ``launch_ros``).

``launch/*.launch.py`` only turn these plans into ``launch_ros`` Node actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from rgpt_ros.ros.config_file import NODE_NAMES  # default node names
from rgpt_ros.ros.parameters import REALSENSE_DEPTH, REALSENSE_INFO, REALSENSE_RGB

ESTIMATED_DEPTH_TOPIC = "/rgpt/depth/image"
CONTAINER = "container"  # the executable running several nodes in one process (rgpt_ros.ros.launcher)


@dataclass(frozen=True)
class NodePlan:
    """One process to start: executable (see CMakeLists / launcher.NODES), node name, parameter overrides;
    for the ``container`` executable, ``nodes`` lists the nodes it runs and ``name`` is empty."""

    executable: str
    name: str
    parameters: dict[str, Any] = field(default_factory=dict)
    nodes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """A name for the process in logs and benchmark tables."""
        return "+".join(NODE_NAMES[n] for n in self.nodes) if self.nodes else self.name


def container_plan(plans: Sequence[NodePlan]) -> NodePlan:
    """One ``container`` process running the nodes of ``plans`` in this order, with the union of their
    parameter overrides (given to every node of the process, which reads those it declares).

    The nodes keep their default names (so each finds its section of the config file); a parameter two
    plans set to different values cannot be given to one process and raises ValueError.
    """
    merged: dict[str, Any] = {}
    for plan in plans:
        if plan.nodes or plan.name != NODE_NAMES[plan.executable]:
            raise ValueError(f"{plan.name!r} cannot join a container: only nodes with their default names can")
        for key, value in plan.parameters.items():
            if key in merged and merged[key] != value:
                raise ValueError(f"nodes of one container need the same {key!r}, got {merged[key]!r} and {value!r}")
            merged[key] = value
    return NodePlan(CONTAINER, "", merged, tuple(plan.executable for plan in plans))


REWARD_ARGUMENTS: dict[str, tuple[str, str]] = {
    "rgb_topic": (REALSENSE_RGB, "colour image topic"),
    "depth_topic": (REALSENSE_DEPTH, "depth aligned to colour (16UC1 mm or 32FC1 m)"),
    "camera_info_topic": (REALSENSE_INFO, "CameraInfo of the colour camera"),
    "regions": ("", "initial regions 'id:x1,y1,x2,y2;id2:...' in pixels; empty = set later via ~/set_regions"),
    "pair": ("fingertip,cube", "the two region ids whose distance drives the reward"),
    "metric": ("closest", "distance metric: closest | centroid | mean_nn"),
    "backend": ("geometric", "spatial-question engine: geometric | spatialrgpt"),
    "checkpoint": ("", "SpatialRGPT checkpoint folder or hub id (backend spatialrgpt)"),
    "debug_image": ("false", "publish debug images with regions and distance drawn"),
    "composed": ("true", "run tracker and reward in one process (regions passed in-process, each image read "
                         "once: lower latency); false = one process per node"),
    "use_depth_estimation": ("false", "estimate depth from colour with Depth Anything (RGB-only cameras)"),
    "depth_model": ("", "Depth Anything checkpoint folder or hub id (a metric model gives metric rewards)"),
    "config": ("", "parameter file; empty = the package's config/reward.yaml"),
}

SPATIAL_QA_ARGUMENTS: dict[str, tuple[str, str]] = {
    "rgb_topic": (REALSENSE_RGB, "colour image topic"),
    "depth_topic": (REALSENSE_DEPTH, "depth aligned to colour"),
    "camera_info_topic": (REALSENSE_INFO, "CameraInfo of the colour camera"),
    "regions_topic": ("/rgpt/regions", "RegionArray of tracked regions (optional)"),
    "backend": ("geometric", "default engine: geometric | spatialrgpt"),
    "checkpoint": ("", "SpatialRGPT checkpoint folder or hub id (backend spatialrgpt)"),
    "device": ("auto", "torch device for the model"),
    "config": ("", "parameter file; empty = the package's config/reward.yaml"),
}


def _truthy(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def _with_defaults(args: dict[str, str], table: dict[str, tuple[str, str]]) -> dict[str, str]:
    unknown = set(args) - set(table)
    if unknown:
        raise ValueError(f"unknown launch argument(s) {sorted(unknown)}; known: {sorted(table)}")
    return {name: args.get(name, default) for name, (default, _) in table.items()}


def reward_nodes(args: dict[str, str]) -> list[NodePlan]:
    """Nodes of ``reward.launch.py`` for the given launch arguments."""
    arg = _with_defaults(args, REWARD_ARGUMENTS)
    debug = _truthy(arg["debug_image"])
    estimate = _truthy(arg["use_depth_estimation"])
    depth_topic = ESTIMATED_DEPTH_TOPIC if estimate else arg["depth_topic"]
    camera = {"rgb_topic": arg["rgb_topic"], "depth_topic": depth_topic, "camera_info_topic": arg["camera_info_topic"]}
    tracker: dict[str, Any] = {"rgb_topic": arg["rgb_topic"], "debug_image": debug}
    specs = [spec.strip() for spec in arg["regions"].split(";") if spec.strip()]
    if specs:
        tracker["regions"] = specs
    tracking = [
        # Reward first: in a container it gets its share of each colour image (the depth decode, the gravity fit)
        # before the tracker works on it, so the regions find their frame ready.
        NodePlan("reward", "rgpt_reward", dict(camera, pair=[p.strip() for p in arg["pair"].split(",")],
                                                metric=arg["metric"], debug_image=debug)),
        NodePlan("tracker", "rgpt_tracker", tracker),
    ]
    plans = [container_plan(tracking)] if _truthy(arg["composed"]) else tracking
    plans.append(NodePlan("spatial_qa", "rgpt_spatial_qa",
                          dict(camera, backend=arg["backend"], checkpoint=arg["checkpoint"])))
    if estimate:
        plans.append(NodePlan("depth", "rgpt_depth", {"rgb_topic": arg["rgb_topic"], "depth_topic": depth_topic,
                                                      "model": arg["depth_model"]}))
    return plans


def spatial_qa_nodes(args: dict[str, str]) -> list[NodePlan]:
    """Nodes of ``spatial_qa.launch.py`` for the given launch arguments."""
    arg = _with_defaults(args, SPATIAL_QA_ARGUMENTS)
    return [NodePlan("spatial_qa", "rgpt_spatial_qa", {k: v for k, v in arg.items() if k != "config"})]


def _param_text(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return json.dumps(list(value))
    if isinstance(value, str):
        return json.dumps(value)  # YAML-quoted: empty strings and 'true'/'1' stay strings
    return repr(value)


def node_command(plan: NodePlan, python: str) -> list[str]:
    """The command line that starts ``plan`` as a process without ``ros2 run`` (same as the installed executable)."""
    args = [python, "-m", "rgpt_ros.ros.launcher", plan.executable, *plan.nodes, "--ros-args"]
    if plan.name:
        args += ["-r", f"__node:={plan.name}"]
    for key, value in plan.parameters.items():
        args += ["-p", f"{key}:={_param_text(value)}"]
    return args
