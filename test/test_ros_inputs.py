"""How the nodes receive camera data: CDR image decoding, pulled subscriptions over Fast DDS, the
player's pre-serialised frames and the launcher's library thread limits."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid

import numpy as np
import pytest
from ros_helpers import observer, require_ros, ros_context, ros_env, spin_until  # noqa: F401

pytestmark = pytest.mark.ros


def _image(array: np.ndarray, encoding: str, pad: int = 0, stamp_ns: int = 1_700_000_000_123_456_789):
    """An rclpy Image of ``array`` with ``pad`` bytes of row padding."""
    require_ros()
    from sensor_msgs.msg import Image
    from std_msgs.msg import Header

    from rgpt_ros.ros.conversions import ns_to_stamp

    rows = array.reshape(array.shape[0], -1).view(np.uint8)
    padded = np.zeros((rows.shape[0], rows.shape[1] + pad), np.uint8)
    padded[:, :rows.shape[1]] = rows
    return Image(header=Header(stamp=ns_to_stamp(stamp_ns), frame_id="cam_optical"), height=array.shape[0],
                 width=array.shape[1], encoding=encoding, is_bigendian=0, step=padded.shape[1],
                 data=padded.tobytes())


@pytest.mark.parametrize("encoding, dtype, channels, pad", [("rgb8", np.uint8, 3, 0), ("bgr8", np.uint8, 3, 8),
                                                             ("16UC1", np.uint16, 1, 4), ("32FC1", np.float32, 1, 0)])
def test_decoded_images_equal_rclpy_messages(encoding, dtype, channels, pad):
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import Image

    from rgpt_ros.imaging import image_msg_to_numpy
    from rgpt_ros.ros.conversions import header_msg
    from rgpt_ros.ros.image_subscription import decode_image

    rng = np.random.default_rng(1)
    shape = (24, 31, channels) if channels > 1 else (24, 31)
    array = (rng.random(shape) * 5000).astype(dtype)
    raw = serialize_message(_image(array, encoding, pad))
    decoded, reference = decode_image(raw), deserialize_message(raw, Image)
    for name in ("height", "width", "encoding", "step", "is_bigendian"):
        assert getattr(decoded, name) == getattr(reference, name)
    assert header_msg(decoded.header) == reference.header
    pixels = image_msg_to_numpy(decoded)
    assert np.array_equal(pixels, image_msg_to_numpy(reference)) and np.array_equal(pixels, array)
    assert np.shares_memory(np.asarray(decoded.data), np.frombuffer(raw, np.uint8)), "pixels are not copied"


def test_undecodable_images_are_dropped_and_the_subscription_keeps_working(ros_context):
    from sensor_msgs.msg import Image

    from rgpt_ros.ros.image_subscription import create_image_subscription
    from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS

    topic = f"/img_{uuid.uuid4().hex[:8]}"
    with observer(ros_context, "image_subscription_test") as (node, executor):
        received = []
        create_image_subscription(node, topic, received.append, RELIABLE_OUTPUT_QOS)
        publisher = node.create_publisher(Image, topic, RELIABLE_OUTPUT_QOS)
        assert spin_until(executor, lambda: publisher.get_subscription_count() == 1, 10.0)
        publisher.publish(b"\x00\x01\x00\x00" + b"\xff" * 7)  # CDR header, then a truncated Image
        publisher.publish(_image(np.full((4, 5, 3), 7, np.uint8), "rgb8"))
        assert spin_until(executor, lambda: len(received) == 1, 10.0)
        spin_until(executor, lambda: False, 0.3)
        assert len(received) == 1 and received[0].encoding == "rgb8" and received[0].width == 5


def test_pulled_subscriptions_wait_in_the_reader_until_pulled(ros_context):
    from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
    from std_msgs.msg import String

    from rgpt_ros.ros.pull_group import PullGroup

    topic = f"/pull_{uuid.uuid4().hex[:8]}"
    qos = QoSProfile(depth=3, history=HistoryPolicy.KEEP_LAST, reliability=ReliabilityPolicy.RELIABLE)
    with observer(ros_context, "pull_group_test") as (node, executor):
        group, pulled, scheduled = PullGroup(), [], []
        node.create_subscription(String, topic, lambda m: pulled.append(m.data), qos, callback_group=group)
        node.create_subscription(String, topic, lambda m: scheduled.append(m.data), qos)
        publisher = node.create_publisher(String, topic, qos)
        assert spin_until(executor, lambda: publisher.get_subscription_count() == 2, 10.0)
        for i in range(5):
            publisher.publish(String(data=str(i)))
        assert spin_until(executor, lambda: len(scheduled) >= 3, 10.0)
        spin_until(executor, lambda: False, 0.3)
        assert pulled == [], "the executor never runs a pulled subscription"
        assert group.pull() == 3 and pulled == ["2", "3", "4"], "the newest `depth` messages, in order"
        assert group.pull() == 0
        publisher.publish(String(data="5"))
        deadline = time.monotonic() + 5.0
        while group.pull() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pulled[-1] == "5"


def test_player_buffers_carry_each_new_stamp(ros_context):
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import Image

    from rgpt_ros.ros.episode_player import StampedBuffer

    msg = _image(np.arange(60, dtype=np.uint8).reshape(4, 5, 3), "rgb8")
    buffer = StampedBuffer(serialize_message(msg))
    for stamp in (0, 1_234_567_890_987_654_321, 5):
        got = deserialize_message(buffer.stamped(stamp), Image)
        assert got.header.stamp.sec * 1_000_000_000 + got.header.stamp.nanosec == stamp
        assert got.header.frame_id == msg.header.frame_id and bytes(got.data) == bytes(msg.data)
    big_endian = bytearray(serialize_message(msg))
    big_endian[1] = 0
    with pytest.raises(ValueError, match="little-endian"):
        StampedBuffer(bytes(big_endian))


@pytest.mark.parametrize("user_value, expected", [(None, "1"), ("3", "3")])
def test_node_processes_run_numpy_and_opencv_single_threaded(user_value, expected):
    env = ros_env()
    env.pop("OPENBLAS_NUM_THREADS", None)
    if user_value is not None:
        env["OPENBLAS_NUM_THREADS"] = user_value
    code = ("import os, sys; from rgpt_ros.ros.launcher import limit_native_threads; "
            "assert 'numpy' not in sys.modules; limit_native_threads(); import cv2; "
            "print(os.environ['OPENBLAS_NUM_THREADS'], cv2.getNumThreads())")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [expected, "1"]
