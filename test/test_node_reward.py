"""reward node over Fast DDS: one SpatialReward per frame, the right trend, and survival of bad input."""

from __future__ import annotations

import math
import time
import uuid

import numpy as np
import pytest
from ros_helpers import node_process, observer, ros_context, running, spin_until, topics_for  # noqa: F401

pytestmark = pytest.mark.ros


@pytest.mark.parametrize("composed", ["true", "false"])  # tracker + reward in one container process, or two
def test_reward_follows_the_fingertip_through_tracker_and_reward_nodes(tmp_path, composed):
    from rgpt_ros.ros.conversions import stamp_to_ns
    from rgpt_ros.ros.episode_player import PlayerFrame
    from rgpt_ros.ros.launch_plan import reward_nodes
    from rgpt_ros.ros.live_session import LiveSession
    from rgpt_ros.synthetic.episodes import make_episode
    from ros_helpers import require_ros

    require_ros()
    episode = make_episode("pause_retreat", n_frames=60, seed=2, width=320, height=240)
    frames = [episode[i] for i in range(len(episode))]
    prefix = f"/rw_{uuid.uuid4().hex[:8]}"
    topics = topics_for(prefix)
    regions = ";".join(f"{k}:{','.join(str(int(v)) for v in frames[0].boxes[k])}" for k in ("fingertip", "cube"))
    plans = reward_nodes({"regions": regions, "rgb_topic": topics["rgb_topic"], "depth_topic": topics["depth_topic"],
                          "camera_info_topic": topics["info_topic"], "composed": composed})
    for plan in plans:  # keep this test's nodes apart from any other run on the machine
        plan.parameters.update({"regions_topic": f"{prefix}/regions"} if plan.executable != "spatial_qa" else {})
        if plan.executable in ("reward", "container"):
            plan.parameters["reward_topic"] = f"{prefix}/reward"
        if plan.executable == "spatial_qa":
            plan.parameters.update(service_name=f"{prefix}/spatial_query", regions_topic=f"{prefix}/regions")
    with LiveSession(plans, reward_topic=f"{prefix}/reward", service_name=f"{prefix}/spatial_query",
                     log_dir=str(tmp_path)) as session:
        player = session.player([PlayerFrame(f.rgb, f.depth, f.camera) for f in frames], 30.0, **topics)
        session.wait_ready(player)
        player.play()
        session.wait_for_rewards(len(frames), timeout=20.0)
        answer = session.ask("How far is <fingertip> from <cube>?")
        rewards = list(session.rewards)

    stamps = [stamp_to_ns(r.msg.header.stamp) for r in rewards]
    assert sorted(stamps) == player.stamps_ns, "exactly one reward per played frame, with the frame's stamp"
    assert all(r.msg.header.frame_id == "camera_color_optical_frame" for r in rewards)
    by_stamp = {stamp_to_ns(r.msg.header.stamp): r.msg for r in rewards}
    measured = np.array([by_stamp[s].distance for s in player.stamps_ns])
    truth = np.array([f.distance for f in frames])
    valid = np.array([by_stamp[s].valid for s in player.stamps_ns])
    assert valid.mean() >= 0.95
    assert np.corrcoef(measured[valid], truth[valid])[0, 1] > 0.95
    approach, retreat = slice(0, 20), slice(40, 60)
    assert measured[approach][valid[approach]][-1] < measured[approach][valid[approach]][0]   # falls on approach
    assert measured[retreat][valid[retreat]][-1] > measured[retreat][valid[retreat]][0]       # rises on retreat
    rewards_arr = np.array([by_stamp[s].reward for s in player.stamps_ns])
    assert np.corrcoef(rewards_arr[valid], truth[valid])[0, 1] < -0.9, "reward rises as the distance falls"
    assert answer.success and answer.unit == "m", answer.message


def test_reward_node_survives_bad_input(ros_context):
    from sensor_msgs.msg import CameraInfo, Image, RegionOfInterest
    from std_msgs.msg import Header

    from rgpt_ros.geometry.camera import CameraIntrinsics
    from rgpt_ros.msg import Region, RegionArray, SpatialReward
    from rgpt_ros.ros.conversions import ns_to_stamp, numpy_to_image_msg, stamp_to_ns
    from rgpt_ros.ros.episode_player import camera_info_msg
    from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS, SENSOR_QOS
    from rgpt_ros.synthetic.episodes import make_episode

    frame = make_episode("straight", n_frames=2, seed=4, width=320, height=240)[1]
    prefix = f"/bad_{uuid.uuid4().hex[:8]}"
    topics = topics_for(prefix)
    proc = node_process("reward", prefix, reward_topic=f"{prefix}/reward", pair=["fingertip", "cube"])
    with running(proc), observer(ros_context, "bad_input_test") as (node, executor):
        received: dict[int, SpatialReward] = {}
        node.create_subscription(SpatialReward, f"{prefix}/reward",
                                 lambda m: received.__setitem__(stamp_to_ns(m.header.stamp), m), RELIABLE_OUTPUT_QOS)
        rgb_pub = node.create_publisher(Image, topics["rgb_topic"], SENSOR_QOS)
        depth_pub = node.create_publisher(Image, topics["depth_topic"], SENSOR_QOS)
        info_pub = node.create_publisher(CameraInfo, topics["info_topic"], SENSOR_QOS)
        regions_pub = node.create_publisher(RegionArray, f"{prefix}/regions", RELIABLE_OUTPUT_QOS)
        stamp = [time.time_ns()]

        def region(region_id, box):
            x1, y1, x2, y2 = (int(v) for v in box)
            return Region(id=region_id, tracked=True, box=RegionOfInterest(x_offset=x1, y_offset=y1, width=x2 - x1,
                                                                            height=y2 - y1))

        good_regions = [region(k, frame.boxes[k]) for k in ("fingertip", "cube")]
        depth_mm = np.nan_to_num(frame.depth * 1000.0).astype(np.uint16)

        def send(rgb=None, depth=None, regions=None, info=True, timeout=3.0, attempts=3):
            """Publish one frame (fresh stamp) and return its reward; best-effort images may be lost, so retry."""
            for _ in range(attempts):
                stamp[0] += 33_000_000
                header = Header(stamp=ns_to_stamp(stamp[0]), frame_id="cam")
                if info:
                    info_pub.publish(camera_info_msg(frame.camera, header))
                depth_msg = depth if depth is not None else numpy_to_image_msg(depth_mm, "16UC1")
                depth_msg.header = header
                depth_pub.publish(depth_msg)
                regions_pub.publish(RegionArray(header=header, regions=good_regions if regions is None else regions))
                rgb_msg = rgb if rgb is not None else numpy_to_image_msg(frame.rgb, "rgb8")
                rgb_msg.header = header
                rgb_pub.publish(rgb_msg)
                key = stamp[0]
                if spin_until(executor, lambda: key in received, timeout):
                    return received[key]
            return None

        assert spin_until(executor, lambda: rgb_pub.get_subscription_count() >= 1 and
                          node.count_publishers(f"{prefix}/reward") >= 1, 30.0)
        time.sleep(0.5)
        assert send(info=False, timeout=1.0) is None, "no reward without camera_info"
        first = None
        for _ in range(7):  # camera_info, frames and regions may need a few rounds to match after discovery
            first = send()
            if first is not None and first.valid:
                break
        assert first is not None and first.valid, first
        assert abs(first.distance - frame.distance) < 0.02

        zero = send(depth=numpy_to_image_msg(np.zeros_like(depth_mm), "16UC1"))
        assert zero is not None and not zero.valid and math.isnan(zero.distance) and zero.status
        nan_depth = np.full(depth_mm.shape, np.nan, np.float32)
        nan = send(depth=numpy_to_image_msg(nan_depth, "32FC1"))
        assert nan is not None and not nan.valid and nan.status
        weird = Image(height=240, width=320, encoding="weird9", step=320, data=bytes(240 * 320))
        bad_encoding = send(rgb=weird)
        assert bad_encoding is not None and not bad_encoding.valid and "weird9" in bad_encoding.status
        small = send(depth=numpy_to_image_msg(depth_mm[:120, :160].copy(), "16UC1"))
        assert small is not None and not small.valid and "depth" in small.status
        missing = send(regions=[good_regions[0]])
        assert missing is not None and not missing.valid and "cube" in missing.status
        outside = send(regions=[good_regions[0], region("cube", (1000, 1000, 1010, 1010))])
        assert outside is not None and not outside.valid and "cube" in outside.status
        empty = send(regions=[good_regions[0], region("cube", (40, 40, 40, 40))])
        assert empty is not None and not empty.valid and "cube" in empty.status
        again = send()
        assert again is not None and again.valid, "the node keeps working after bad input"
        assert proc.poll() is None
