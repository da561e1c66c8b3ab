"""Start any rgpt_ros node: ``ros2 run rgpt_ros <node>``, the ``rgpt-<node>`` console scripts and launch files."""

from __future__ import annotations

import importlib
import sys
from typing import Optional, Sequence

NODES = {
    "tracker": "rgpt_ros.ros.tracker_node:TrackerNode",
    "reward": "rgpt_ros.ros.reward_node:RewardNode",
    "spatial_qa": "rgpt_ros.ros.spatial_qa_node:SpatialQANode",
    "depth": "rgpt_ros.ros.depth_node:DepthNode",
}


def run_node(name: str, argv: Optional[Sequence[str]] = None, threads: int = 2) -> int:
    """Create node ``name`` with ``--ros-args`` from argv, spin it, and return an exit code.

    A bad parameter ends start-up with its message (exit 2); Ctrl-C ends cleanly (exit 0).
    """
    if name not in NODES:
        print(f"unknown node {name!r}; known: {sorted(NODES)}", file=sys.stderr)
        return 2
    module_name, _, class_name = NODES[name].partition(":")
    try:
        import rclpy
        from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor

        node_class = getattr(importlib.import_module(module_name), class_name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("rclpy", "rgpt_ros", "sensor_msgs", "std_msgs", "rcl_interfaces"):
            print(f"[rgpt_ros.{name}] cannot start: {exc}. The nodes need ROS 2 and the built interfaces: "
                  "`make setup` (or colcon build) and `source install/setup.bash` first.", file=sys.stderr)
            return 2
        raise

    from rgpt_ros.ros.parameters import ParameterError

    rclpy.init(args=list(argv) if argv is not None else sys.argv)
    node = None
    try:
        node = node_class()
        executor = MultiThreadedExecutor(num_threads=threads)
        executor.add_node(node)
        executor.spin()
    except ParameterError as exc:
        print(f"[rgpt_ros.{name}] invalid parameter: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


def tracker_main(argv: Optional[Sequence[str]] = None) -> int:
    return run_node("tracker", argv)


def reward_main(argv: Optional[Sequence[str]] = None) -> int:
    return run_node("reward", argv)


def spatial_qa_main(argv: Optional[Sequence[str]] = None) -> int:
    return run_node("spatial_qa", argv, threads=3)


def depth_main(argv: Optional[Sequence[str]] = None) -> int:
    return run_node("depth", argv)


if __name__ == "__main__":
    sys.exit(run_node(sys.argv[1], sys.argv[1:]) if len(sys.argv) > 1 else 2)
