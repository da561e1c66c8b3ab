"""Message passing between the nodes of one process (the ``container`` executable) that skips DDS.

rclpy has no intra-process transport: two nodes in one process still exchange every message through
DDS, each paying a take, a deserialisation and an executor wake-up (about 1 ms of CPU apiece at camera
rate), and each image subscription copies the 900 KiB frame out of shared memory again. An
:class:`IntraProcessBus` given to the nodes of a container removes both:

* **in-process topics**: a node publishing through :meth:`IntraProcessBus.publisher` hands the message
  object straight to the container's subscribers of that topic (then publishes it over DDS as usual for
  everyone outside). Receivers must treat it as read-only.
* **shared image readers**: every node's image subscription to the same topic shares one DDS reader;
  each image is taken and decoded once and given to the callbacks in the order the nodes subscribed.

Subscriptions made through the bus are wired by :meth:`IntraProcessBus.connect`, once the container has
built all its nodes (so the order in which nodes are built does not decide what is in-process). A
subscription to a topic no node of the container publishes becomes an ordinary DDS subscription.
Everything runs on the container's one executor thread, so the callbacks need no locks. A callback
that raises is logged by its node and the message still reaches the others: one node's failure does
not take down the rest of the container.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable, Optional

from rclpy.callback_groups import CallbackGroup
from rclpy.node import Node
from rclpy.qos import QoSProfile

from rgpt_ros.ros.image_subscription import create_image_subscription

Callback = Callable[[Any], None]


@dataclass
class _Wanted:
    """A subscription waiting for :meth:`IntraProcessBus.connect`."""

    node: Node
    msg_type: Any
    topic: str  # resolved
    callback: Callback
    qos: QoSProfile
    callback_group: Optional[CallbackGroup]
    image: bool


class IntraProcessPublisher:
    """A node's publisher that first delivers to the container's own subscribers, then over DDS."""

    def __init__(self, bus: "IntraProcessBus", node: Node, msg_type: Any, topic: str, qos: QoSProfile) -> None:
        self.topic = node.resolve_topic_name(topic)
        self.dds = node.create_publisher(msg_type, topic, qos)
        self._local = bus._local.setdefault(self.topic, [])

    def publish(self, msg: Any) -> None:
        for callback in self._local:
            callback(msg)
        self.dds.publish(msg)


class IntraProcessBus:
    """In-process topics and shared image readers for the nodes of one container process (see the module)."""

    def __init__(self) -> None:
        self._local: dict[str, list[Callback]] = {}  # topic published in this process -> its local receivers
        self._wanted: list[_Wanted] = []
        self.connected = False

    def publisher(self, node: Node, msg_type: Any, topic: str, qos: QoSProfile) -> IntraProcessPublisher:
        """Like ``node.create_publisher``; the container's subscribers of ``topic`` get the messages in-process."""
        self._check_open()
        return IntraProcessPublisher(self, node, msg_type, topic, qos)

    def subscribe(self, node: Node, msg_type: Any, topic: str, callback: Callback, qos: QoSProfile, *,
                  callback_group: Optional[CallbackGroup] = None, image: bool = False) -> None:
        """Like ``node.create_subscription`` (or :func:`create_image_subscription` with ``image``), wired at
        :meth:`connect`: in-process when a node of the container publishes ``topic``, else over DDS
        (images: one reader shared by every node's subscription to the topic)."""
        self._check_open()
        self._wanted.append(_Wanted(node, msg_type, node.resolve_topic_name(topic), callback, qos, callback_group,
                                    image))

    def connect(self) -> dict[str, str]:
        """Wire every subscription made so far; returns how each topic is served (for the start-up log)."""
        self._check_open()
        self.connected = True
        served: dict[str, str] = {}
        shared_images: dict[str, list[Callback]] = {}
        for wanted in self._wanted:
            callback = _isolated(wanted.node, wanted.topic, wanted.callback)
            if wanted.topic in self._local:
                self._local[wanted.topic].append(callback)
                served[wanted.topic] = "in-process"
            elif wanted.image:
                receivers = shared_images.get(wanted.topic)
                if receivers is None:
                    receivers = shared_images[wanted.topic] = []
                    create_image_subscription(wanted.node, wanted.topic, _fan_out(receivers), wanted.qos,
                                              callback_group=wanted.callback_group)
                receivers.append(callback)
                served[wanted.topic] = f"DDS, one reader for {len(receivers)} node(s)"
            else:
                wanted.node.create_subscription(wanted.msg_type, wanted.topic, callback, wanted.qos,
                                                callback_group=wanted.callback_group)
                served[wanted.topic] = "DDS"
        self._wanted.clear()
        return served

    def _check_open(self) -> None:
        if self.connected:
            raise RuntimeError("the intra-process bus is already connected: create the nodes before connect()")


def _isolated(node: Node, topic: str, callback: Callback) -> Callback:
    """``callback`` with its exceptions logged by ``node`` (throttled) instead of raised into the container."""
    def receive(msg: Any) -> None:
        try:
            callback(msg)
        except Exception as exc:
            node.get_logger().error(f"callback for {topic} failed, message skipped: {exc!r}\n"
                                    + traceback.format_exc(limit=-3), throttle_duration_sec=5.0)

    return receive


def _fan_out(receivers: list[Callback]) -> Callback:
    def deliver(msg: Any) -> None:
        for receiver in receivers:
            receiver(msg)

    return deliver


def create_publisher(node: Node, bus: Optional[IntraProcessBus], msg_type: Any, topic: str, qos: QoSProfile) -> Any:
    """``node.create_publisher``, through ``bus`` when the node runs in a container."""
    return bus.publisher(node, msg_type, topic, qos) if bus is not None else node.create_publisher(msg_type, topic, qos)


def subscribe(node: Node, bus: Optional[IntraProcessBus], msg_type: Any, topic: str, callback: Callback,
              qos: QoSProfile, *, callback_group: Optional[CallbackGroup] = None, image: bool = False) -> None:
    """A node's subscription, through ``bus`` when the node runs in a container (:meth:`IntraProcessBus.subscribe`)."""
    if bus is not None:
        bus.subscribe(node, msg_type, topic, callback, qos, callback_group=callback_group, image=image)
    elif image:
        create_image_subscription(node, topic, callback, qos, callback_group=callback_group)
    else:
        node.create_subscription(msg_type, topic, callback, qos, callback_group=callback_group)
