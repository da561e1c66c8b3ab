"""rgpt_ros: region-aware spatial answers and dense rewards from RGB-D streams.

The core (geometry, question answering, models, bags, tracking, reward) is ROS-free;
``rgpt_ros.ros`` holds the thin rclpy adapters. Generated interfaces live in
``rgpt_ros.msg`` / ``rgpt_ros.srv`` once the package is built with colcon.
"""

import pkgutil

# The colcon build installs the generated rgpt_ros.msg / rgpt_ros.srv next to a copy of this
# package; extend_path lets a source checkout (pip install -e) find them too, and vice versa.
__path__ = pkgutil.extend_path(__path__, __name__)

__version__ = "0.1.0"
