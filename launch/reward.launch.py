"""Dense region-aware reward from an RGB-D camera (RealSense topics by default).

    ros2 launch rgpt_ros reward.launch.py regions:="fingertip:300,200,330,230;cube:400,260,460,320" pair:=fingertip,cube

Starts the tracker, the reward node and the spatial-question service; with
use_depth_estimation:=true a Depth Anything node makes depth from colour for RGB-only cameras.
The node list and parameters come from rgpt_ros.ros.launch_plan (tested without ROS).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare

from rgpt_ros.ros.launch_plan import REWARD_ARGUMENTS, reward_nodes


def _nodes(context):
    args = {name: LaunchConfiguration(name).perform(context) for name in REWARD_ARGUMENTS}
    config = args.pop("config") or (FindPackageShare("rgpt_ros").perform(context) + "/config/reward.yaml")
    return [Node(package="rgpt_ros", executable=plan.executable, name=plan.name,
                 parameters=[config, plan.parameters], output="screen") for plan in reward_nodes(args)]


def generate_launch_description() -> LaunchDescription:
    declared = [DeclareLaunchArgument(name, default_value=default, description=text)
                for name, (default, text) in REWARD_ARGUMENTS.items()]
    return LaunchDescription(declared + [OpaqueFunction(function=_nodes)])
