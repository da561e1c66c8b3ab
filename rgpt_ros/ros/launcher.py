"""Start any rgpt_ros node: ``ros2 run rgpt_ros <node>``, the ``rgpt-<node>`` console scripts and launch files."""

from __future__ import annotations

import ctypes
import functools
import gc
import importlib
import inspect
import os
import sys
import threading
from typing import Callable, Optional, Sequence

# Every node spins on a SingleThreadedExecutor (far less per-message overhead than the multi-threaded
# one at camera rate); spatial_qa serves its questions from a companion node in a worker thread.
# rclpy.experimental.EventsExecutor from the Kilted wheels stalled a publisher in the same process
# here, so it is not used.
NODES = {
    "tracker": "rgpt_ros.ros.tracker_node:TrackerNode",
    "reward": "rgpt_ros.ros.reward_node:RewardNode",
    "spatial_qa": "rgpt_ros.ros.spatial_qa_node:SpatialQANode",
    "depth": "rgpt_ros.ros.depth_node:DepthNode",
}


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


def limit_native_threads() -> None:
    """One OpenBLAS (numpy, scipy) and one OpenCV thread in this node process; call before numpy is imported.

    The per-frame work of the nodes is small (template windows, region point clouds): library worker
    pools only add hand-offs and spinning, which with several node processes on a few cores show up
    as latency spikes (see the README's live benchmark). A user's own ``OPENBLAS_NUM_THREADS`` wins;
    torch's threads are untouched.
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import cv2

    cv2.setNumThreads(1)


def settle_garbage_collector() -> None:
    """After start-up: collect once, then move every surviving object (modules, torch, the node) out of
    the collector's reach, so full collections while spinning only walk the per-frame objects."""
    gc.collect()
    gc.freeze()


def release_free_memory() -> bool:
    """Return the C heap's free pages to the system (glibc ``malloc_trim``); False where there is none (musl).

    The nodes allocate and free megabyte buffers every frame (image bytes, decoded depth). When a node
    catches up after a stall, several frames are alive at once; glibc keeps the heap that took, and the
    process's RSS steps up for good at each such hiccup although the memory is free. Trimming now and
    then lets RSS follow what is actually in use.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Optional[Callable[[int], int]]:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def memory_trim_period_s() -> float:
    """Seconds between :func:`release_free_memory` calls in node processes (``RGPT_MALLOC_TRIM_S``, 0 = never)."""
    try:
        return max(0.0, float(os.environ.get("RGPT_MALLOC_TRIM_S", DEFAULT_MALLOC_TRIM_S)))
    except ValueError:
        return DEFAULT_MALLOC_TRIM_S


DEFAULT_MALLOC_TRIM_S = 10.0
CONTAINER = "container"


def container_node_names(argv: Sequence[str]) -> list[str]:
    """The node names given to ``container`` (argv without the program name, up to ``--ros-args``)."""
    names = []
    for arg in argv:
        if arg == "--ros-args":
            break
        names.append(arg)
    return names


def run_node(name: str, argv: Optional[Sequence[str]] = None) -> int:
    """Run node ``name`` with ``--ros-args`` from argv (argv[0] is the program); ``container`` runs the nodes
    named after it in one process (``container reward tracker --ros-args ...``). Returns an exit code."""
    argv = list(argv) if argv is not None else sys.argv
    return run_nodes(container_node_names(argv[1:]) if name == CONTAINER else [name], argv)


def run_nodes(names: Sequence[str], argv: Sequence[str]) -> int:
    """Create the nodes ``names`` (in this order) with ``--ros-args`` from argv and spin them on one executor.

    Several nodes share an :class:`~rgpt_ros.ros.intra_process.IntraProcessBus`: the topics they exchange
    stay in-process and each camera image is read once. A bad parameter ends start-up with its message
    (exit 2); Ctrl-C ends cleanly (exit 0).
    """
    unknown = [name for name in names if name not in NODES]
    if unknown or not names or len(set(names)) != len(names):
        print(f"cannot start nodes {list(names)}: give distinct names from {sorted(NODES)}", file=sys.stderr)
        return 2
    label = "+".join(names)
    limit_native_threads()
    try:
        import rclpy
        from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor

        node_classes = [_node_class(name) for name in names]
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("rclpy", "rgpt_ros", "sensor_msgs", "std_msgs", "rcl_interfaces"):
            print(f"[rgpt_ros.{label}] cannot start: {exc}. The nodes need ROS 2 and the built interfaces: "
                  "`make setup` (or colcon build) and `source install/setup.bash` first.", file=sys.stderr)
            return 2
        raise

    from rgpt_ros.resources import dds_profile_hint
    from rgpt_ros.ros.intra_process import IntraProcessBus
    from rgpt_ros.ros.parameters import ParameterError

    alone = [name for name, cls in zip(names, node_classes) if "bus" not in inspect.signature(cls).parameters]
    if len(names) > 1 and alone:
        composable = sorted(n for n in NODES if "bus" in inspect.signature(_node_class(n)).parameters)
        print(f"[rgpt_ros.{label}] {alone} cannot share a container (nodes that can: {composable}); "
              "run them as processes of their own", file=sys.stderr)
        return 2
    rclpy.init(args=list(argv))
    nodes = []
    try:
        bus = IntraProcessBus() if len(names) > 1 else None
        for node_class in node_classes:
            nodes.append(node_class(bus=bus) if bus is not None else node_class())
        if bus is not None:
            served = bus.connect()
            nodes[0].get_logger().info(f"container {label}: " + "; ".join(f"{t} {how}" for t, how in served.items()))
        hint = dds_profile_hint()
        if hint:
            nodes[0].get_logger().warning(hint)
        if memory_trim_period_s() > 0:
            nodes[0].create_timer(memory_trim_period_s(), release_free_memory)
        executor = SingleThreadedExecutor()
        for node in nodes:
            executor.add_node(node)
        settle_garbage_collector()
        executor.spin()
    except ParameterError as exc:
        print(f"[rgpt_ros.{label}] invalid parameter: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        for node in nodes:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


def _node_class(name: str) -> type:
    module_name, _, class_name = NODES[name].partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def tracker_main(argv: Optional[Sequence[str]] = None) -> int:
    return run_node("tracker", argv)


def reward_main(argv: Optional[Sequence[str]] = None) -> int:
    return run_node("reward", argv)


def spatial_qa_main(argv: Optional[Sequence[str]] = None) -> int:
    return run_node("spatial_qa", argv)


def depth_main(argv: Optional[Sequence[str]] = None) -> int:
    return run_node("depth", argv)


def container_main(argv: Optional[Sequence[str]] = None) -> int:
    return run_node(CONTAINER, argv)


if __name__ == "__main__":
    sys.exit(run_node(sys.argv[1], sys.argv[1:]) if len(sys.argv) > 1 else 2)
