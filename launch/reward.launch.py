"""Dense region-aware reward from an RGB-D camera (RealSense topics by default).

    ros2 launch rgpt_ros reward.launch.py regions:="fingertip:300,200,330,230;cube:400,260,460,320" pair:=fingertip,cube

Starts the tracker, the reward node and the spatial-question service; with
use_depth_estimation:=true a Depth Anything node makes depth from colour for RGB-only cameras.
The node list and parameters come from rgpt_ros.ros.launch_plan (tested without ROS).
"""

from rgpt_ros.ros.launch_description import plan_launch_description
from rgpt_ros.ros.launch_plan import REWARD_ARGUMENTS, reward_nodes


def generate_launch_description():
    return plan_launch_description(REWARD_ARGUMENTS, reward_nodes)
