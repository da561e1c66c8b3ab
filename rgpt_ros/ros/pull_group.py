"""Subscriptions whose messages wait in the DDS reader until the node asks for them.

rclpy's executor costs about a millisecond of CPU per received message (rebuilding its wait set,
waking up, taking the message), whatever the message. A node that needs a stream only now and then
(camera_info, the frames behind a service call) or only alongside another stream (the colour image
that goes with a depth image) can leave it to DDS: subscriptions in a :class:`PullGroup` are never
scheduled by any executor, their reader keeps the newest ``depth`` messages of the QoS history, and
:meth:`PullGroup.pull` hands everything waiting to the subscription callbacks, in arrival order.
"""

from __future__ import annotations

from typing import Any

from rclpy.callback_groups import CallbackGroup
from rclpy.subscription import Subscription


class PullGroup(CallbackGroup):
    """A callback group no executor runs; ``pull()`` delivers its subscriptions' waiting messages.

    Pull from one thread at a time. Executors skip the subscriptions' QoS event handlers too, so
    incompatible-QoS warnings do not appear for these topics.
    """

    def __init__(self) -> None:
        super().__init__()
        self.subscriptions: list[Subscription[Any]] = []

    def add_entity(self, entity: Any) -> None:
        super().add_entity(entity)
        if isinstance(entity, Subscription):
            self.subscriptions.append(entity)

    def can_execute(self, entity: Any) -> bool:
        return False

    def beginning_execution(self, entity: Any) -> bool:
        return False

    def ending_execution(self, entity: Any) -> None:
        pass

    def pull(self) -> int:
        """Take every waiting message and call its subscription's callback; returns how many."""
        delivered = 0
        for subscription in self.subscriptions:
            with subscription.handle:
                while True:
                    taken = subscription.handle.take_message(subscription.msg_type, subscription.raw)
                    if taken is None:
                        break
                    subscription.callback(taken[0])
                    delivered += 1
        return delivered
