"""Render and check ``config/reward.yaml``: every node parameter with its description (ROS-free).

``python -m rgpt_ros.ros.config_file > config/reward.yaml`` regenerates it; a test keeps the
committed file identical to what the parameter tables say, so it cannot drift.
"""

from __future__ import annotations

import json
import textwrap

from rgpt_ros.ros.parameters import params_of

NODE_NAMES = {"tracker": "rgpt_tracker", "reward": "rgpt_reward", "spatial_qa": "rgpt_spatial_qa", "depth": "rgpt_depth"}

HEADER = """\
# rgpt_ros parameters for reward.launch.py / spatial_qa.launch.py (ROS 2 parameter file).
# Generated from rgpt_ros/ros/parameters.py by `python -m rgpt_ros.ros.config_file`; edit a copy
# and pass it with `config:=/path/to/my.yaml`. Launch arguments override these values.
#
# Reward shaping (reward node, `reward.*`): per valid frame with distance d (metres),
#   reward = -distance_weight * d + kernel_weight * exp(-d / kernel_scale)
#            + progress_weight * (d[t-1] - d[t]) + success_bonus * [d < success_threshold]
# (see rgpt_ros/reward/shaping.py). Invalid frames publish valid=false and NaN, never a number.
"""


def _yaml_value(value) -> str:
    return json.dumps(value)  # JSON scalars and lists are valid YAML flow values


def render_config() -> str:
    lines = [HEADER]
    for node in NODE_NAMES:
        lines.append(f"{NODE_NAMES[node]}:")
        lines.append("  ros__parameters:")
        for param in params_of(node).values():
            for text in textwrap.wrap(param.description, 96):
                lines.append(f"    # {text}")
            if param.choices:
                lines.append(f"    # one of: {', '.join(str(c) for c in param.choices)}")
            key = param.name
            if "." in key:  # nested ROS parameter names are YAML mappings
                head, _, tail = key.partition(".")
                lines.append(f"    {head}.{tail}: {_yaml_value(param.default)}")
            else:
                lines.append(f"    {key}: {_yaml_value(param.default)}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_config(), end="")
