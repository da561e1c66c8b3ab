"""The spatial-question service alone (regions come with each request or from a tracker).

    ros2 launch rgpt_ros spatial_qa.launch.py backend:=spatialrgpt checkpoint:=/models/SpatialRGPT-VILA1.5-8B
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from rgpt_ros.ros.launch_plan import SPATIAL_QA_ARGUMENTS, spatial_qa_nodes


def _nodes(context):
    args = {name: LaunchConfiguration(name).perform(context) for name in SPATIAL_QA_ARGUMENTS}
    config = args.pop("config") or (FindPackageShare("rgpt_ros").perform(context) + "/config/reward.yaml")
    return [Node(package="rgpt_ros", executable=plan.executable, name=plan.name,
                 parameters=[config, plan.parameters], output="screen") for plan in spatial_qa_nodes(args)]


def generate_launch_description() -> LaunchDescription:
    declared = [DeclareLaunchArgument(name, default_value=default, description=text)
                for name, (default, text) in SPATIAL_QA_ARGUMENTS.items()]
    return LaunchDescription(declared + [OpaqueFunction(function=_nodes)])
