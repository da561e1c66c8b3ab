"""A separate process serving rgpt_ros/srv/SpatialQuery and publishing rgpt_ros/msg/SpatialReward."""

import math
import sys

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node

from rgpt_ros.msg import SpatialReward
from rgpt_ros.srv import SpatialQuery


class Peer(Node):
    def __init__(self, prefix: str) -> None:
        super().__init__("interface_peer")
        self.publisher = self.create_publisher(SpatialReward, f"{prefix}/reward", 10)
        self.service = self.create_service(SpatialQuery, f"{prefix}/spatial_query", self.on_query)
        self.count = 0
        self.timer = self.create_timer(0.05, self.publish)

    def publish(self) -> None:
        msg = SpatialReward()
        msg.header.stamp.sec = 1000 + self.count
        msg.header.frame_id = "camera_color_optical_frame"
        msg.distance = 0.5 - 0.01 * self.count
        msg.reward = -msg.distance
        msg.valid = True
        msg.region_a, msg.region_b, msg.source = "fingertip", "cube", "peer"
        self.publisher.publish(msg)
        self.count += 1

    def on_query(self, request: SpatialQuery.Request, response: SpatialQuery.Response) -> SpatialQuery.Response:
        ids = [region.id for region in request.regions]
        response.success = bool(request.question)
        response.message = "" if response.success else "empty question"
        response.answer = f"{request.question} | regions={','.join(ids)} | backend={request.backend}"
        response.value = float(len(ids)) if ids else math.nan
        response.unit = "m"
        response.frame_stamp = request.stamp
        return response


def main() -> None:
    rclpy.init()
    node = Peer(sys.argv[1])
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    print("peer ready", flush=True)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
