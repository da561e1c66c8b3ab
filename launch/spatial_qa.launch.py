"""The spatial-question service alone (regions come with each request or from a tracker).

    ros2 launch rgpt_ros spatial_qa.launch.py backend:=spatialrgpt checkpoint:=/models/SpatialRGPT-VILA1.5-8B
"""

from rgpt_ros.ros.launch_description import plan_launch_description
from rgpt_ros.ros.launch_plan import SPATIAL_QA_ARGUMENTS, spatial_qa_nodes


def generate_launch_description():
    return plan_launch_description(SPATIAL_QA_ARGUMENTS, spatial_qa_nodes)
