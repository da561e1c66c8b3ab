"""The spatialrgpt backend answers through the real /rgpt/spatial_query service (spatial_qa node process)."""

from __future__ import annotations

import math
import uuid

import pytest
from ros_helpers import node_process, ros_context, spin_until, stop_process, topics_for  # noqa: F401

from rgpt_ros.model.testing import write_tiny_checkpoint

pytestmark = pytest.mark.ros


def _region_msg(region_id, box):
    from sensor_msgs.msg import RegionOfInterest

    from rgpt_ros.msg import Region

    x1, y1, x2, y2 = (int(v) for v in box)
    return Region(id=region_id, box=RegionOfInterest(x_offset=x1, y_offset=y1, width=x2 - x1, height=y2 - y1))


def _call(executor, client, question, regions=(), backend=""):
    from rgpt_ros.srv import SpatialQuery

    future = client.call_async(SpatialQuery.Request(question=question, regions=list(regions), backend=backend))
    assert spin_until(executor, future.done, 60.0), f"no answer to {question!r}"
    return future.result()


def test_spatial_query_service_with_spatialrgpt_backend(ros_context, tmp_path):
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from rgpt_ros.ros.episode_player import EpisodePlayer, PlayerFrame
    from rgpt_ros.srv import SpatialQuery
    from rgpt_ros.synthetic.episodes import make_episode

    checkpoint = write_tiny_checkpoint(tmp_path / "tiny", seed=0)
    prefix = f"/rgptqa_{uuid.uuid4().hex[:8]}"
    service = f"{prefix}/spatial_query"
    proc = node_process("spatial_qa", prefix, service_name=service, backend="spatialrgpt", checkpoint=str(checkpoint),
                        device="cpu", max_new_tokens=8)
    node = Node("rgpt_model_test", context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    try:
        client = node.create_client(SpatialQuery, service)
        assert spin_until(executor, client.service_is_ready, 60.0), "service never appeared"
        episode = make_episode("straight", n_frames=4, seed=3, width=320, height=240)
        frames = [episode[i] for i in range(len(episode))]
        player = EpisodePlayer(node, [PlayerFrame(f.rgb, f.depth, f.camera) for f in frames], rate_hz=30.0,
                               **topics_for(prefix))
        regions = [_region_msg(k, frames[-1].boxes[k]) for k in ("fingertip", "cube")]
        for _ in range(5):
            player.play()
            reply = _call(executor, client, "How far is <fingertip> from <cube>?", regions)
            if reply.success:
                break
        assert reply.success, reply.message
        assert reply.category == "distance_data"
        assert reply.frame_stamp.sec > 0
        assert math.isnan(reply.value) or reply.unit == "m"  # a random tiny model rarely writes a length

        unknown = _call(executor, client, "How far is <gripper> from <cube>?", regions)
        assert not unknown.success and "gripper" in unknown.message
    finally:
        executor.shutdown()
        node.destroy_node()
        output = stop_process(proc)
    assert proc.returncode == 0, output
