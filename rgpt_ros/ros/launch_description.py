"""Turn a launch plan (``rgpt_ros.ros.launch_plan``) into a ROS 2 LaunchDescription.

Needs ``launch`` / ``launch_ros`` (a full ROS 2 install); the plans themselves are ROS-free and tested.
"""

from __future__ import annotations

from typing import Callable

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from rgpt_ros.ros.launch_plan import NodePlan


def plan_launch_description(arguments: dict[str, tuple[str, str]],
                            plan: Callable[[dict[str, str]], list[NodePlan]]) -> LaunchDescription:
    """Declare ``arguments`` and start the nodes ``plan(argument values)`` returns, with the config file first."""

    def nodes(context):
        values = {name: LaunchConfiguration(name).perform(context) for name in arguments}
        config = values.pop("config", "") or (FindPackageShare("rgpt_ros").perform(context) + "/config/reward.yaml")
        return [Node(package="rgpt_ros", executable=p.executable, name=p.name or None, arguments=list(p.nodes),
                     parameters=[config, p.parameters], output="screen") for p in plan(values)]

    declared = [DeclareLaunchArgument(name, default_value=default, description=text)
                for name, (default, text) in arguments.items()]
    return LaunchDescription(declared + [OpaqueFunction(function=nodes)])
