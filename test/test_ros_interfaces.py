"""The generated rgpt_ros interfaces work across two processes over Fast DDS."""

from __future__ import annotations

import math
import uuid

from ros_helpers import PEERS, ros_context, spin_until, start_process, stop_process  # noqa: F401

import pytest

pytestmark = pytest.mark.ros


def test_reward_topic_and_query_service_across_processes(ros_context):
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from rgpt_ros.msg import Region, SpatialReward
    from rgpt_ros.srv import SpatialQuery

    prefix = f"/itest_{uuid.uuid4().hex[:8]}"
    peer = start_process([str(PEERS / "interface_peer.py"), prefix])
    node = Node("interface_test", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    try:
        received: list[SpatialReward] = []
        node.create_subscription(SpatialReward, f"{prefix}/reward", received.append, 10)
        client = node.create_client(SpatialQuery, f"{prefix}/spatial_query")
        assert spin_until(executor, client.service_is_ready, 30.0), "service never appeared"
        assert spin_until(executor, lambda: len(received) >= 5, 20.0), "no SpatialReward arrived"

        first = received[0]
        assert first.valid and first.region_a == "fingertip" and first.source == "peer"
        assert first.header.frame_id == "camera_color_optical_frame"
        assert math.isclose(first.reward, -first.distance, rel_tol=1e-6)
        stamps = [m.header.stamp.sec for m in received]
        assert stamps == sorted(stamps)

        request = SpatialQuery.Request()
        request.question = "How far is <fingertip> from <cube>?"
        request.regions = [Region(id="fingertip"), Region(id="cube")]
        request.backend = "geometric"
        request.stamp.sec = 42
        future = client.call_async(request)
        assert spin_until(executor, future.done, 20.0), "service call timed out"
        response = future.result()
        assert response.success
        assert response.answer == "How far is <fingertip> from <cube>? | regions=fingertip,cube | backend=geometric"
        assert response.value == 2.0 and response.frame_stamp.sec == 42

        empty = SpatialQuery.Request()
        future = client.call_async(empty)
        assert spin_until(executor, future.done, 20.0)
        assert not future.result().success and future.result().message == "empty question"
    finally:
        executor.shutdown()
        node.destroy_node()
        output = stop_process(peer)
    assert "peer ready" in output


def test_colcon_install_holds_generated_interfaces_next_to_the_library():
    """One `rgpt_ros` Python package in install/: rosidl's msg/srv and the project's own modules."""
    from pathlib import Path

    from ros_helpers import require_ros

    require_ros()
    import rgpt_ros.msg
    import rgpt_ros.srv

    package = Path(rgpt_ros.msg.__file__).parent.parent
    assert (package / "msg" / "_spatial_reward.py").is_file() and (package / "srv" / "_spatial_query.py").is_file()
    for own in ("geometry", "qa", "engines", "ros", "bags", "model", "reward", "tracking"):
        assert (package / own / "__init__.py").exists() or any((package / own).glob("*.py")), own
    assert "rosidl" not in (package / "__init__.py").read_text(), "the package's own __init__ must win"
