"""reward node over Fast DDS: one SpatialReward per frame, the right trend, and survival of bad input."""

from __future__ import annotations

import math
import sys
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


class _Camera:
    """Publishes single RGB-D frames (fresh stamps) to a reward node under test and waits for their rewards."""

    def __init__(self, node, executor, prefix: str, frame, with_regions: bool) -> None:
        from sensor_msgs.msg import CameraInfo, Image

        from rgpt_ros.msg import RegionArray, SpatialReward
        from rgpt_ros.ros.conversions import stamp_to_ns
        from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS, SENSOR_QOS

        topics = topics_for(prefix)
        self.node, self.executor, self.frame = node, executor, frame
        self.received: dict[int, SpatialReward] = {}
        node.create_subscription(SpatialReward, f"{prefix}/reward",
                                 lambda m: self.received.__setitem__(stamp_to_ns(m.header.stamp), m),
                                 RELIABLE_OUTPUT_QOS)
        self.rgb_pub = node.create_publisher(Image, topics["rgb_topic"], SENSOR_QOS)
        self.depth_pub = node.create_publisher(Image, topics["depth_topic"], SENSOR_QOS)
        self.info_pub = node.create_publisher(CameraInfo, topics["info_topic"], SENSOR_QOS)
        self.regions_pub = (node.create_publisher(RegionArray, f"{prefix}/regions", RELIABLE_OUTPUT_QOS)
                            if with_regions else None)
        self.good_regions = [self.region(k, frame.boxes[k]) for k in ("fingertip", "cube")]
        self.depth_mm = np.nan_to_num(frame.depth * 1000.0).astype(np.uint16)
        self.stamp = time.time_ns()
        assert spin_until(executor, lambda: self.rgb_pub.get_subscription_count() >= 1 and
                          node.count_publishers(f"{prefix}/reward") >= 1, 30.0)
        time.sleep(0.5)

    @staticmethod
    def region(region_id, box):
        from sensor_msgs.msg import RegionOfInterest

        from rgpt_ros.msg import Region

        x1, y1, x2, y2 = (int(v) for v in box)
        return Region(id=region_id, tracked=True, box=RegionOfInterest(x_offset=x1, y_offset=y1, width=x2 - x1,
                                                                        height=y2 - y1))

    def send(self, rgb=None, depth=None, regions=None, info=True, timeout=3.0, attempts=3):
        """Publish one frame (fresh stamp) and return its reward; best-effort images may be lost, so retry."""
        from std_msgs.msg import Header

        from rgpt_ros.msg import RegionArray
        from rgpt_ros.ros.conversions import ns_to_stamp, numpy_to_image_msg
        from rgpt_ros.ros.episode_player import camera_info_msg

        for _ in range(attempts):
            self.stamp += 33_000_000
            header = Header(stamp=ns_to_stamp(self.stamp), frame_id="cam")
            if info:
                self.info_pub.publish(camera_info_msg(self.frame.camera, header))
            depth_msg = depth if depth is not None else numpy_to_image_msg(self.depth_mm, "16UC1")
            depth_msg.header = header
            self.depth_pub.publish(depth_msg)
            if self.regions_pub is not None:
                self.regions_pub.publish(RegionArray(header=header,
                                                     regions=self.good_regions if regions is None else regions))
            rgb_msg = rgb if rgb is not None else numpy_to_image_msg(self.frame.rgb, "rgb8")
            rgb_msg.header = header
            self.rgb_pub.publish(rgb_msg)
            key = self.stamp
            if spin_until(self.executor, lambda: key in self.received, timeout):
                return self.received[key]
        return None

    def first_valid(self):
        """Camera_info, frames and regions may need a few rounds to match after discovery."""
        reward = None
        for _ in range(7):
            reward = self.send()
            if reward is not None and reward.valid:
                break
        return reward

    def bad_camera_input_is_reported(self) -> None:
        """Frames the camera side gets wrong each come back as an invalid reward with the reason."""
        from sensor_msgs.msg import Image

        from rgpt_ros.ros.conversions import numpy_to_image_msg

        zero = self.send(depth=numpy_to_image_msg(np.zeros_like(self.depth_mm), "16UC1"))
        assert zero is not None and not zero.valid and math.isnan(zero.distance) and zero.status
        nan = self.send(depth=numpy_to_image_msg(np.full(self.depth_mm.shape, np.nan, np.float32), "32FC1"))
        assert nan is not None and not nan.valid and nan.status
        weird = Image(height=240, width=320, encoding="weird9", step=320, data=bytes(240 * 320))
        bad_encoding = self.send(rgb=weird)
        assert bad_encoding is not None and not bad_encoding.valid and "weird9" in bad_encoding.status
        small = self.send(depth=numpy_to_image_msg(self.depth_mm[:120, :160].copy(), "16UC1"))
        assert small is not None and not small.valid and "depth" in small.status


def test_reward_node_survives_bad_input(ros_context):
    from rgpt_ros.synthetic.episodes import make_episode

    frame = make_episode("straight", n_frames=2, seed=4, width=320, height=240)[1]
    prefix = f"/bad_{uuid.uuid4().hex[:8]}"
    proc = node_process("reward", prefix, reward_topic=f"{prefix}/reward", pair=["fingertip", "cube"])
    with running(proc), observer(ros_context, "bad_input_test") as (node, executor):
        camera = _Camera(node, executor, prefix, frame, with_regions=True)
        assert camera.send(info=False, timeout=1.0) is None, "no reward without camera_info"
        first = camera.first_valid()
        assert first is not None and first.valid, first
        assert abs(first.distance - frame.distance) < 0.02
        camera.bad_camera_input_is_reported()
        good = camera.good_regions
        missing = camera.send(regions=[good[0]])
        assert missing is not None and not missing.valid and "cube" in missing.status
        outside = camera.send(regions=[good[0], camera.region("cube", (1000, 1000, 1010, 1010))])
        assert outside is not None and not outside.valid and "cube" in outside.status
        empty = camera.send(regions=[good[0], camera.region("cube", (40, 40, 40, 40))])
        assert empty is not None and not empty.valid and "cube" in empty.status
        again = camera.send()
        assert again is not None and again.valid, "the node keeps working after bad input"
        assert proc.poll() is None


def test_container_survives_bad_camera_input(ros_context):
    """The default launch: tracker + reward in one process; bad images reach both nodes."""
    from rgpt_ros.ros.conversions import numpy_to_image_msg
    from rgpt_ros.ros.launch_plan import NodePlan, container_plan, node_command
    from rgpt_ros.synthetic.episodes import make_episode
    from ros_helpers import start_process

    frame = make_episode("straight", n_frames=2, seed=4, width=320, height=240)[1]
    prefix = f"/cbad_{uuid.uuid4().hex[:8]}"
    topics = topics_for(prefix)
    common = {"rgb_topic": topics["rgb_topic"], "regions_topic": f"{prefix}/regions"}
    regions = [f"{k}:{','.join(str(int(v)) for v in frame.boxes[k])}" for k in ("fingertip", "cube")]
    plan = container_plan([
        NodePlan("reward", "rgpt_reward", dict(common, depth_topic=topics["depth_topic"],
                                               camera_info_topic=topics["info_topic"], reward_topic=f"{prefix}/reward",
                                               pair=["fingertip", "cube"])),
        NodePlan("tracker", "rgpt_tracker", dict(common, regions=regions))])
    proc = start_process(node_command(plan, sys.executable)[1:])
    with running(proc), observer(ros_context, "container_bad_input_test") as (node, executor):
        camera = _Camera(node, executor, prefix, frame, with_regions=False)
        first = camera.first_valid()
        assert first is not None and first.valid and abs(first.distance - frame.distance) < 0.02, first
        camera.bad_camera_input_is_reported()
        resized = camera.send(rgb=numpy_to_image_msg(frame.rgb[:120, :160].copy(), "rgb8"))
        assert resized is not None and not resized.valid, "a colour image of another size is reported, not dropped"
        again = camera.send()
        assert again is not None and again.valid, "both nodes keep working after bad input"
        assert proc.poll() is None
