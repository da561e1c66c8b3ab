"""Helpers for tests that run real rclpy nodes over Fast DDS (no mocks)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Iterable

import pytest

PEERS = Path(__file__).parent / "ros_peers"


def require_ros() -> None:
    """Skip (or fail under `make test`, which sets RGPT_REQUIRE_ROS=1) when ROS interfaces are absent."""
    try:
        import rclpy  # noqa: F401
        from rgpt_ros.msg import SpatialReward  # noqa: F401
    except ImportError as exc:
        if os.environ.get("RGPT_REQUIRE_ROS") == "1":
            pytest.fail(f"ROS 2 interfaces unavailable under make test: {exc}")
        pytest.skip(f"needs rclpy + built rgpt_ros interfaces (make setup; source install/setup.bash): {exc}")


def ros_env() -> dict[str, str]:
    """Environment for child processes: same DDS domain, discovery kept on localhost."""
    env = dict(os.environ)
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_process(args: list[str]) -> subprocess.Popen:
    """Start ``python args...`` as a separate process sharing the test's DDS domain."""
    return subprocess.Popen([sys.executable, *args], env=ros_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def stop_process(proc: subprocess.Popen, timeout: float = 10.0) -> str:
    """Interrupt a child (as Ctrl-C would), wait, and return its output."""
    if proc.poll() is None:
        proc.send_signal(2)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    out = proc.stdout.read() if proc.stdout else ""
    return out


def spin_until(executor, predicate: Callable[[], bool], timeout: float) -> bool:
    """Spin ``executor`` until ``predicate()`` holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        executor.spin_once(timeout_sec=0.05)
    return predicate()


@pytest.fixture
def ros_context():
    """A fresh rclpy context for one test; shut down afterwards."""
    require_ros()
    os.environ.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
    import rclpy

    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    context.try_shutdown()


@contextlib.contextmanager
def observer(context, name: str):
    """A test-side node with its executor; torn down afterwards."""
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    node = Node(name, context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        yield node, executor
    finally:
        executor.shutdown()
        node.destroy_node()


@contextlib.contextmanager
def running(proc: subprocess.Popen):
    """Stop ``proc`` on exit, print its output (shown by pytest on failure) and require a clean exit."""
    failed = False
    try:
        yield proc
    except BaseException:
        failed = True
        raise
    finally:
        output = stop_process(proc)
        print(output)
    if not failed:
        assert proc.returncode == 0, output


def wait_for(iterable_fn: Callable[[], Iterable], count: int, executor, timeout: float) -> list:
    """Spin until ``iterable_fn()`` has at least ``count`` items; return them."""
    spin_until(executor, lambda: len(list(iterable_fn())) >= count, timeout)
    return list(iterable_fn())


def node_process(node: str, prefix: str, **params) -> subprocess.Popen:
    """Start rgpt_ros node ``node`` in its own process with topics under ``prefix`` and extra parameters."""
    from rgpt_ros.ros.launch_plan import NodePlan, node_command

    topics = {
        "rgb_topic": f"{prefix}/color/image_raw",
        "depth_topic": f"{prefix}/aligned_depth_to_color/image_raw",
        "camera_info_topic": f"{prefix}/color/camera_info",
        "regions_topic": f"{prefix}/regions",
    }
    allowed = {"tracker": {"rgb_topic", "regions_topic"}}.get(node, set(topics))
    merged = {k: v for k, v in topics.items() if k in allowed}
    merged.update(params)
    command = node_command(NodePlan(node, f"{node}_{prefix.strip('/')}", merged), sys.executable)
    return start_process(command[1:])


def topics_for(prefix: str) -> dict[str, str]:
    """Player topic names matching ``node_process``."""
    return {"rgb_topic": f"{prefix}/color/image_raw", "depth_topic": f"{prefix}/aligned_depth_to_color/image_raw",
            "info_topic": f"{prefix}/color/camera_info"}
