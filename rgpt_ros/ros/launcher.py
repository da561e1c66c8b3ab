"""Start any rgpt_ros node: ``ros2 run rgpt_ros <node>``, the ``rgpt-<node>`` console scripts and launch files."""

from __future__ import annotations

import gc
import importlib
import os
import sys
import threading
from typing import Optional, Sequence

# node -> (class, executor threads). Each node is a single-threaded pipeline; spatial_qa runs its
# service on a companion node in a worker thread of its own.
NODES = {
    "tracker": ("rgpt_ros.ros.tracker_node:TrackerNode", 1),
    "reward": ("rgpt_ros.ros.reward_node:RewardNode", 1),
    "spatial_qa": ("rgpt_ros.ros.spatial_qa_node:SpatialQANode", 1),
    "depth": ("rgpt_ros.ros.depth_node:DepthNode", 1),
}


def make_executor(threads: int, context=None):
    """SingleThreadedExecutor for one thread (less per-message overhead), else MultiThreadedExecutor.

    (rclpy.experimental.EventsExecutor from the Kilted wheels stalled a publisher in the same process
    here, so it is not used.)
    """
    from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor

    if threads > 1:
        return MultiThreadedExecutor(num_threads=threads, context=context)
    return SingleThreadedExecutor(context=context)


def lower_thread_priority(niceness: int) -> bool:
    """Make the calling thread ``niceness`` steps nicer (Linux schedules threads separately); False if not possible."""
    if niceness <= 0 or not hasattr(os, "setpriority"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
        return True
    except OSError:
        return False


def settle_garbage_collector() -> None:
    """After start-up: collect once, then move every surviving object (modules, torch, the node) out of
    the collector's reach, so per-frame garbage collections stay short (no 10-ms pauses at camera rate)."""
    gc.collect()
    gc.freeze()


def run_node(name: str, argv: Optional[Sequence[str]] = None) -> int:
    """Create node ``name`` with ``--ros-args`` from argv, spin it on its executor, return an exit code.

    A bad parameter ends start-up with its message (exit 2); Ctrl-C ends cleanly (exit 0).
    """
    if name not in NODES:
        print(f"unknown node {name!r}; known: {sorted(NODES)}", file=sys.stderr)
        return 2
    target, threads = NODES[name]
    module_name, _, class_name = target.partition(":")
    try:
        import rclpy
        from rclpy.executors import ExternalShutdownException

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
        executor = make_executor(threads)
        executor.add_node(node)
        settle_garbage_collector()
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
    return run_node("spatial_qa", argv)


def depth_main(argv: Optional[Sequence[str]] = None) -> int:
    return run_node("depth", argv)


if __name__ == "__main__":
    sys.exit(run_node(sys.argv[1], sys.argv[1:]) if len(sys.argv) > 1 else 2)
