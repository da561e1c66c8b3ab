"""Camera-image subscriptions that skip rclpy's message conversion.

rclpy turns every received ``sensor_msgs/Image`` into a Python object field by field, copying the
pixels twice (about 0.8 ms for 640x480 rgb8 here, paid by every subscriber at camera rate). These
subscriptions take the serialised CDR bytes instead and decode them with rosbags, the decoder the
bag tools use: the header is parsed and ``data`` is a zero-copy numpy view (about 0.01 ms).

The decoded message has the ``sensor_msgs/Image`` attributes every consumer here reads
(``header.stamp``, ``encoding``, ``data``, ...); turn its header into an rclpy one with
:func:`rgpt_ros.ros.conversions.header_msg` before publishing it.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional

from rclpy.callback_groups import CallbackGroup
from rclpy.node import Node
from rclpy.qos import QoSProfile
from rclpy.serialization import deserialize_message
from rclpy.subscription import Subscription
from rosbags.typesys import get_typestore
from sensor_msgs.msg import Image

from rgpt_ros.bags.messages import IMAGE
from rgpt_ros.bags.typestore import BASE_STORE


@functools.lru_cache(maxsize=1)
def _deserialize_cdr() -> Callable[[bytes, str], Any]:
    return get_typestore(BASE_STORE).deserialize_cdr


def decode_image(raw: bytes) -> Any:
    """Serialised ``sensor_msgs/Image`` -> message object with a zero-copy ``data`` array.

    Falls back to rclpy's own deserialisation for an encoding rosbags does not read.
    """
    try:
        return _deserialize_cdr()(memoryview(raw), IMAGE)  # a view: rosbags would copy bytes when slicing
    except Exception:  # rosbags raises its own error types; rclpy reads whatever the middleware wrote
        return deserialize_message(raw, Image)


def create_image_subscription(node: Node, topic: str, callback: Callable[[Any], None], qos: QoSProfile,
                              callback_group: Optional[CallbackGroup] = None) -> Subscription:
    """``node.create_subscription(Image, ...)`` delivering :func:`decode_image` messages to ``callback``.

    A message neither decoder reads is dropped with a throttled warning; the node keeps running.
    """
    def on_raw(raw: bytes) -> None:
        try:
            msg = decode_image(raw)
        except Exception as exc:
            node.get_logger().warning(f"undecodable image on {topic} ({len(raw)} bytes) dropped: {exc}",
                                      throttle_duration_sec=2.0)
            return
        callback(msg)

    return node.create_subscription(Image, topic, on_raw, qos, callback_group=callback_group, raw=True)
