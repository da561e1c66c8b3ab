"""QoS per REP-2003: sensor-data (best effort, shallow) for camera inputs, reliable for outputs."""

import copy

from rclpy.qos import (DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy,
                       qos_profile_sensor_data)

SENSOR_QOS: QoSProfile = qos_profile_sensor_data

# camera_info is latched by some drivers; volatile best-effort still matches both kinds of publisher.
CAMERA_INFO_QOS = QoSProfile(depth=5, reliability=ReliabilityPolicy.BEST_EFFORT,
                             durability=DurabilityPolicy.VOLATILE, history=HistoryPolicy.KEEP_LAST)

# Outputs that consumers (policies, recorders) must not miss.
RELIABLE_OUTPUT_QOS = QoSProfile(depth=50, reliability=ReliabilityPolicy.RELIABLE,
                                 durability=DurabilityPolicy.VOLATILE, history=HistoryPolicy.KEEP_LAST)

# Region prompts are state: late joiners get the last one.
LATCHED_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL, history=HistoryPolicy.KEEP_LAST)


def with_depth(qos: QoSProfile, depth: int) -> QoSProfile:
    """``qos`` keeping the last ``depth`` messages."""
    profile = copy.copy(qos)
    profile.depth = depth
    return profile
