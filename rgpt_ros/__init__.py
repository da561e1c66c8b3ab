"""rgpt_ros: region-aware spatial answers and dense rewards from RGB-D streams.

The core (geometry, question answering, models, bags, tracking, reward) is ROS-free;
``rgpt_ros.ros`` holds the thin rclpy adapters. Generated interfaces live in
``rgpt_ros.msg`` / ``rgpt_ros.srv`` once the package is built with colcon.
"""

__version__ = "0.1.0"
