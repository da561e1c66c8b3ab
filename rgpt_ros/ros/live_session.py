"""Run the live node set (as reward.launch.py would) against played frames, in-process observer included.

Used by ``make demo``, the end-to-end tests and ``bench/bench_live.py``: nodes run as separate
processes over DDS exactly as launched on a robot; this process plays the camera, records every
SpatialReward with its arrival time and asks SpatialQuery questions.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Optional, Sequence

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node

from rgpt_ros.msg import Region, SpatialReward
from rgpt_ros.resources import use_large_image_dds_profile
from rgpt_ros.ros.episode_player import EpisodePlayer, PlayerFrame
from rgpt_ros.ros.launch_plan import NodePlan, node_command
from rgpt_ros.ros.qos import RELIABLE_OUTPUT_QOS
from rgpt_ros.srv import SpatialQuery


@dataclass
class ReceivedReward:
    msg: SpatialReward
    received_ns: int


class LiveSession:
    """Starts ``plans`` as processes and observes them from an in-process node.

    Use as a context manager; ``wait_ready`` before ``play``.
    """

    def __init__(self, plans: Sequence[NodePlan], *, reward_topic: str = "/rgpt/reward",
                 service_name: str = "/rgpt/spatial_query", log_dir: Optional[str] = None) -> None:
        self.plans = list(plans)
        self.reward_topic = reward_topic
        self.service_name = service_name
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []
        self.rewards: list[ReceivedReward] = []
        self._lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------------------
    def __enter__(self) -> "LiveSession":
        use_large_image_dds_profile()  # 640x480 frames do not fit Fast DDS's default shared memory
        env = dict(os.environ)
        env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")
        env["PYTHONUNBUFFERED"] = "1"
        for plan in self.plans:
            out = (open(os.path.join(self.log_dir, f"{plan.label}.log"), "w") if self.log_dir else subprocess.DEVNULL)
            self.processes.append(subprocess.Popen(node_command(plan, sys.executable), env=env, stdout=out,
                                                   stderr=subprocess.STDOUT))
        self.context = rclpy.Context()
        rclpy.init(context=self.context)
        self.node = Node("rgpt_live_observer", context=self.context)
        self.node.create_subscription(SpatialReward, self.reward_topic, self._on_reward, RELIABLE_OUTPUT_QOS)
        self.client = self.node.create_client(SpatialQuery, self.service_name)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self._spinner = threading.Thread(target=self._spin, name="observer_spin", daemon=True)
        self._spinner.start()
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.send_signal(2)
        for proc in self.processes:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.context.try_shutdown()
        self._spinner.join(timeout=5)
        self.node.destroy_node()

    def _spin(self) -> None:
        try:
            while self.context.ok():
                self.executor.spin_once(timeout_sec=0.05)
        except Exception:  # context shut down while spinning
            pass

    def _on_reward(self, msg: SpatialReward) -> None:
        with self._lock:
            self.rewards.append(ReceivedReward(msg, time.time_ns()))

    def failed_processes(self) -> list[str]:
        return [plan.label for plan, proc in zip(self.plans, self.processes) if proc.poll() not in (None, 0)]

    # -- actions ----------------------------------------------------------------------------------
    def player(self, frames: Sequence[PlayerFrame], rate_hz: float, **topics: str) -> EpisodePlayer:
        return EpisodePlayer(self.node, frames, rate_hz=rate_hz, **topics)

    def wait_ready(self, player: EpisodePlayer, timeout: float = 60.0) -> None:
        """Block until the whole chain works: every node process subscribes to the camera (one colour reader
        per process: the nodes of a container share theirs), the service is up, and a warm-up copy of the
        first frame (stamped before the episode) has come back as a reward.

        The tracker initialises its regions on that first image, as it would on the episode's first frame.
        """
        deadline = time.monotonic() + timeout
        checks = {
            "camera subscribers": lambda: player.rgb_pub.get_subscription_count() >= len(self.plans),
            "reward publisher": lambda: self.node.count_publishers(self.reward_topic) >= 1,
            "spatial_query service": self.client.service_is_ready,
        }
        warmup_stamp = player.stamps_ns[0] - 10_000_000_000
        while time.monotonic() < deadline:
            failed = self.failed_processes()
            if failed:
                raise RuntimeError(f"node process(es) {failed} exited during start-up (see their logs)")
            if all(check() for check in checks.values()):
                warmup_stamp += 33_000_000
                player.publish_frame(0, warmup_stamp)
                time.sleep(0.3)
                with self._lock:
                    if any(r.msg.header.stamp.sec * 1_000_000_000 + r.msg.header.stamp.nanosec == warmup_stamp
                           for r in self.rewards):
                        self.rewards.clear()
                        return
            else:
                time.sleep(0.1)
        missing = [name for name, check in checks.items() if not check()] or ["a warm-up reward"]
        raise TimeoutError(f"nodes not ready after {timeout:.0f} s: waiting for {missing}")

    def ask(self, question: str, regions: Sequence[Region] = (), backend: str = "",
            timeout: float = 60.0) -> SpatialQuery.Response:
        request = SpatialQuery.Request(question=question, regions=list(regions), backend=backend)
        done = threading.Event()
        future = self.client.call_async(request)
        future.add_done_callback(lambda _f: done.set())
        if not done.wait(timeout):
            raise TimeoutError(f"no answer to {question!r} within {timeout:.0f} s")
        return future.result()

    def wait_for_rewards(self, count: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.rewards) < count:
            time.sleep(0.02)
        return len(self.rewards)
