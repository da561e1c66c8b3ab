"""Annotation settings from ``config/reward.yaml``: the same parameters, defaults and checks as the live nodes.

The file is the ROS 2 parameter file of the reward node (``rgpt_reward: ros__parameters: ...``,
optionally ``rgpt_tracker`` for the tracker's ``min_confidence``); a flat mapping of the same
parameter names (``reward.distance_weight`` or a nested ``reward:`` block) is accepted too.
Topic parameters are not used offline: bag topics come from the command line or are detected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional

from rgpt_ros.resources import package_config
from rgpt_ros.reward.shaping import RewardConfig
from rgpt_ros.ros.parameters import ParameterError, params_of
from rgpt_ros.tracking.tracker import TrackerConfig

REWARD_NODE, TRACKER_NODE = "rgpt_reward", "rgpt_tracker"
REWARD_PREFIX = "reward."
CONFIG_NAME = "reward.yaml"


def default_config_path() -> Optional[Path]:
    """The package's ``config/reward.yaml``: source checkout, colcon install or pip data files (None if absent)."""
    return package_config(CONFIG_NAME)


@dataclass
class AnnotationSettings:
    """Everything the per-frame pipeline and the synchroniser need, validated."""

    reward: RewardConfig = field(default_factory=RewardConfig)
    pair: tuple[str, str] = ("fingertip", "cube")
    metric: str = "closest"
    up_vector: Optional[list[float]] = None
    depth_scale: float = 0.001
    min_depth_m: float = 0.1
    max_depth_m: float = 10.0
    sync_slop_s: float = 0.025
    sync_queue_size: int = 15
    tracker: TrackerConfig = field(default_factory=TrackerConfig)

    @classmethod
    def from_mapping(cls, data: Optional[Mapping[str, Any]]) -> "AnnotationSettings":
        """From a parsed YAML mapping (None = the nodes' defaults); ValueError naming bad keys/values."""
        data = dict(data or {})
        if REWARD_NODE in data or TRACKER_NODE in data:
            reward_params = _node_params(data, REWARD_NODE)
            tracker_params = _node_params(data, TRACKER_NODE)
        else:
            reward_params, tracker_params = data, {}
        reward_params = _flatten(reward_params)
        declared = params_of("reward")
        unknown = sorted(set(reward_params) - set(declared))
        if unknown:
            raise ParameterError(f"unknown reward parameter(s) {unknown}; known: {sorted(declared)}")
        values = {name: p.default for name, p in declared.items()}
        for name, value in reward_params.items():
            values[name] = declared[name].validate(value)
        shaping = {k[len(REWARD_PREFIX):]: v for k, v in values.items() if k.startswith(REWARD_PREFIX)}
        tracker = TrackerConfig()
        if "min_confidence" in tracker_params:
            tracker = TrackerConfig(min_score=params_of("tracker")["min_confidence"].validate(
                tracker_params["min_confidence"]))
        up = list(values["up_vector"])
        return cls(reward=RewardConfig.from_dict(shaping), pair=(values["pair"][0], values["pair"][1]),
                   metric=values["metric"], up_vector=up if len(up) == 3 else None,
                   depth_scale=float(values["depth_scale"]), min_depth_m=float(values["min_depth_m"]),
                   max_depth_m=float(values["max_depth_m"]), sync_slop_s=float(values["sync_slop_s"]),
                   sync_queue_size=int(values["sync_queue_size"]), tracker=tracker)


def _node_params(data: Mapping[str, Any], node: str) -> dict[str, Any]:
    section = data.get(node) or {}
    if not isinstance(section, Mapping):
        raise ParameterError(f"config section {node!r} must be a mapping")
    params = section.get("ros__parameters", section)
    if not isinstance(params, Mapping):
        raise ParameterError(f"config section {node}.ros__parameters must be a mapping")
    return dict(params)


def _flatten(params: Mapping[str, Any]) -> dict[str, Any]:
    """``{"reward": {"distance_weight": 1}}`` -> ``{"reward.distance_weight": 1}``."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key == "reward" and isinstance(value, Mapping):
            out.update({f"{REWARD_PREFIX}{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out
