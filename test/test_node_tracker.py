"""tracker node in its own process: RegionArray per image with its header; SetRegions re-initialises."""

from __future__ import annotations

import time
import uuid

import pytest
from ros_helpers import node_process, observer, ros_context, running, spin_until, topics_for  # noqa: F401

pytestmark = pytest.mark.ros


def _spec(region_id, box):
    return f"{region_id}:{','.join(str(int(v)) for v in box)}"


def test_tracker_follows_regions_and_accepts_new_ones(ros_context):
    from sensor_msgs.msg import RegionOfInterest

    from rgpt_ros.msg import Region, RegionArray
    from rgpt_ros.ros.episode_player import EpisodePlayer, PlayerFrame
    from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS
    from rgpt_ros.srv import SetRegions
    from rgpt_ros.synthetic.episodes import make_episode
    from rgpt_ros.tracking.boxes import box_iou

    episode = make_episode("straight", n_frames=40, seed=5, width=320, height=240)
    frames = [episode[i] for i in range(len(episode))]
    first = frames[0]
    prefix = f"/trk_{uuid.uuid4().hex[:8]}"
    regions_param = ";".join(_spec(k, first.boxes[k]) for k in ("fingertip", "cube"))
    proc = node_process("tracker", prefix, regions=[regions_param])
    with running(proc), observer(ros_context, "tracker_test") as (node, executor):
        received: list = []
        node.create_subscription(RegionArray, f"{prefix}/regions", received.append, RELIABLE_OUTPUT_QOS)
        topics = topics_for(prefix)
        # Wait for discovery with the first frame, re-sent until the tracker answers.
        warmup = EpisodePlayer(node, [PlayerFrame(first.rgb, None, first.camera)], rgb_topic=topics["rgb_topic"],
                               depth_topic=topics["depth_topic"], info_topic=topics["info_topic"])
        for _ in range(100):
            warmup.play()
            if spin_until(executor, lambda: len(received) > 0, 0.2):
                break
        assert received, "tracker never published"
        warm_up_stamps = set(warmup.publish_times_ns)  # answers to re-sent warm-up frames may still arrive

        def stamp(msg) -> int:
            return msg.header.stamp.sec * 10**9 + msg.header.stamp.nanosec

        def played() -> list:
            return [m for m in received if stamp(m) not in warm_up_stamps]

        player = EpisodePlayer(node, [PlayerFrame(f.rgb, None, f.camera) for f in frames[1:]], rate_hz=30.0,
                               rgb_topic=topics["rgb_topic"], depth_topic=topics["depth_topic"],
                               info_topic=topics["info_topic"])
        thread = player.start()
        assert spin_until(executor, lambda: len(played()) >= len(frames) - 1, 30.0), len(played())
        thread.join()

        stamps = {stamp(m) for m in played()}
        assert stamps == set(player.stamps_ns), "every image yields a RegionArray with its own stamp"
        ious = []
        for msg, frame in zip(played(), frames[1:]):
            by_id = {r.id: r for r in msg.regions}
            assert set(by_id) == {"fingertip", "cube"}
            box = by_id["fingertip"].box
            ious.append(box_iou((box.x_offset, box.y_offset, box.x_offset + box.width, box.y_offset + box.height),
                                frame.boxes["fingertip"]))
        assert sum(iou > 0.5 for iou in ious) >= 0.9 * len(ious), ious

        client = node.create_client(SetRegions, f"/tracker_{prefix.strip('/')}/set_regions")
        assert spin_until(executor, client.service_is_ready, 20.0)
        x1, y1, x2, y2 = frames[-1].boxes["cube"]
        request = SetRegions.Request(reset=True, regions=[Region(
            id="target", box=RegionOfInterest(x_offset=x1, y_offset=y1, width=x2 - x1, height=y2 - y1))])
        future = client.call_async(request)
        assert spin_until(executor, future.done, 20.0) and future.result().success, future.result()

        bad = client.call_async(SetRegions.Request(regions=[Region(id="empty")]))
        assert spin_until(executor, bad.done, 20.0)
        assert not bad.result().success and "empty" in bad.result().message

        received.clear()
        last = frames[-1]
        again = EpisodePlayer(node, [PlayerFrame(last.rgb, None, last.camera)] * 3, rate_hz=30.0,
                              rgb_topic=topics["rgb_topic"], depth_topic=topics["depth_topic"],
                              info_topic=topics["info_topic"])
        again.play()
        assert spin_until(executor, lambda: len(received) >= 2, 20.0)
        assert [r.id for r in received[-1].regions] == ["target"]
        assert received[-1].regions[0].tracked

        # An image that cannot be tracked still gets its RegionArray, with the regions not tracked in it.
        from sensor_msgs.msg import Image
        from std_msgs.msg import Header

        from rgpt_ros.ros.conversions import ns_to_stamp, numpy_to_image_msg
        from rgpt_ros.ros.qos import SENSOR_QOS

        image_pub = node.create_publisher(Image, topics["rgb_topic"], SENSOR_QOS)

        def answer_to(msg, stamp_ns):
            msg.header = Header(stamp=ns_to_stamp(stamp_ns), frame_id="cam")
            for _ in range(5):  # best-effort images: re-send until answered
                image_pub.publish(msg)
                if spin_until(executor, lambda: any(stamp(m) == stamp_ns for m in received), 1.0):
                    return next(m for m in received if stamp(m) == stamp_ns)
            return None

        base = time.time_ns()
        weird = answer_to(Image(height=240, width=320, encoding="weird9", step=320, data=bytes(240 * 320)), base)
        assert weird is not None and [(r.id, r.tracked) for r in weird.regions] == [("target", False)]
        box = weird.regions[0].box
        assert box.width > 0 and box.x_offset + box.width <= 320, "the last known box, clipped to the image"
        resized = answer_to(numpy_to_image_msg(last.rgb[:120, :160].copy(), "rgb8"), base + 1)
        assert resized is not None and not resized.regions[0].tracked
        good = answer_to(numpy_to_image_msg(last.rgb, "rgb8"), base + 2)
        assert good is not None and good.regions[0].tracked, "tracking goes on after images it could not use"
