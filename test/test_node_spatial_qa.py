"""spatial_qa node in its own process, asked over the real SpatialQuery service."""

from __future__ import annotations

import math
import uuid

import pytest
from ros_helpers import node_process, observer, ros_context, running, spin_until, topics_for  # noqa: F401

pytestmark = pytest.mark.ros


def _region_msg(region_id, box):
    from sensor_msgs.msg import RegionOfInterest

    from rgpt_ros.msg import Region

    x1, y1, x2, y2 = box
    return Region(id=region_id, box=RegionOfInterest(x_offset=x1, y_offset=y1, width=x2 - x1, height=y2 - y1))


def _call(executor, client, question, regions=(), backend="", stamp_ns=0):
    from rgpt_ros.ros.conversions import ns_to_stamp
    from rgpt_ros.srv import SpatialQuery

    request = SpatialQuery.Request(question=question, regions=list(regions), backend=backend)
    request.stamp = ns_to_stamp(stamp_ns)
    future = client.call_async(request)
    assert spin_until(executor, future.done, 30.0), f"no answer to {question!r}"
    return future.result()


def test_spatial_query_service_answers_and_reports_errors(ros_context):

    from rgpt_ros.ros.episode_player import EpisodePlayer, PlayerFrame
    from rgpt_ros.srv import SpatialQuery
    from rgpt_ros.synthetic.episodes import make_episode

    prefix = f"/qa_{uuid.uuid4().hex[:8]}"
    service = f"{prefix}/spatial_query"
    proc = node_process("spatial_qa", prefix, service_name=service)
    with running(proc), observer(ros_context, "qa_test") as (node, executor):
        client = node.create_client(SpatialQuery, service)
        assert spin_until(executor, client.service_is_ready, 30.0), "service never appeared"

        early = _call(executor, client, "How far is <fingertip> from <cube>?", [_region_msg("fingertip", (0, 0, 5, 5))])
        assert not early.success and "no synchronised frame" in early.message

        episode = make_episode("straight", n_frames=6, seed=3, width=320, height=240)
        frames = [episode[i] for i in range(len(episode))]
        player = EpisodePlayer(node, [PlayerFrame(f.rgb, f.depth, f.camera) for f in frames], rate_hz=30.0,
                               **topics_for(prefix))
        # Play until the node has buffered frames (DDS discovery may swallow the first ones).
        for _ in range(5):
            player.play()
            probe = _call(executor, client, "How far is <fingertip> from <cube>?",
                          [_region_msg(k, frames[-1].boxes[k]) for k in ("fingertip", "cube")])
            if probe.success:
                break
        assert probe.success, probe.message
        assert probe.unit == "m" and probe.category
        last = frames[-1]
        # distance_data is the reference's mean nearest-neighbour distance: between the closest-surface
        # and the centroid distance of the true geometry.
        assert last.distance - 0.01 <= probe.value <= last.centroid_distance + 0.02, (probe.value, probe.answer)
        assert "fingertip" in probe.answer and "cube" in probe.answer
        assert probe.frame_stamp.sec > 0

        regions = [_region_msg(k, last.boxes[k]) for k in ("fingertip", "cube")]
        unknown = _call(executor, client, "How far is <gripper> from <cube>?", regions)
        assert not unknown.success and "gripper" in unknown.message and math.isnan(unknown.value)

        nonsense = _call(executor, client, "What colour is <cube>?", regions)
        assert not nonsense.success and nonsense.message

        bad_backend = _call(executor, client, "How far is <fingertip> from <cube>?", regions, backend="oracle")
        assert not bad_backend.success and "oracle" in bad_backend.message

        far_stamp = _call(executor, client, "How far is <fingertip> from <cube>?", regions, stamp_ns=10**9)
        assert not far_stamp.success and "no frame within" in far_stamp.message

        no_regions = _call(executor, client, "How far is <region0> from <region1>?")
        assert not no_regions.success and "no regions" in no_regions.message
