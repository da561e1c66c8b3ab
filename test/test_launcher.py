"""Process-level settings the node launcher applies: thread niceness and the frozen GC heap."""

from __future__ import annotations

import gc
import os
import threading

import pytest

from rgpt_ros.ros.launcher import lower_thread_priority, settle_garbage_collector

pytestmark = pytest.mark.skipif(not hasattr(os, "setpriority"), reason="needs os.setpriority (POSIX)")


def _niceness_in_thread(step: int) -> tuple[bool, int, int]:
    out: dict[str, object] = {}

    def body() -> None:
        tid = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, tid)
        out["ok"] = lower_thread_priority(step)
        out["delta"] = os.getpriority(os.PRIO_PROCESS, tid) - before

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    return out["ok"], out["delta"], os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_lower_thread_priority_changes_only_the_calling_thread():
    main_before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    ok, delta, main_after = _niceness_in_thread(5)
    assert ok and delta == min(5, 19 - main_before)
    assert main_after == main_before


def test_zero_niceness_is_a_no_op():
    ok, delta, _ = _niceness_in_thread(0)
    assert not ok and delta == 0


def test_settle_garbage_collector_freezes_the_start_up_heap():
    try:
        settle_garbage_collector()
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()


def test_dds_profile_hint_only_for_fast_dds_without_a_profile(monkeypatch):
    from rgpt_ros.resources import dds_profile_hint

    for name in ("FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE", "RMW_IMPLEMENTATION"):
        monkeypatch.delenv(name, raising=False)
    hint = dds_profile_hint()
    assert hint and "export FASTDDS_DEFAULT_PROFILES_FILE=" in hint and "fastdds_large_images.xml" in hint
    monkeypatch.setenv("RMW_IMPLEMENTATION", "rmw_cyclonedds_cpp")
    assert dds_profile_hint() is None
    monkeypatch.setenv("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    assert dds_profile_hint() == hint
    monkeypatch.setenv("FASTRTPS_DEFAULT_PROFILES_FILE", "/etc/my_profile.xml")
    assert dds_profile_hint() is None


@pytest.mark.ros
def test_a_node_started_without_a_dds_profile_says_how_to_set_one():
    import subprocess
    import sys
    import time
    import uuid

    from ros_helpers import require_ros, ros_env

    from rgpt_ros.ros.launch_plan import NodePlan, node_command

    require_ros()
    env = ros_env()
    env.pop("FASTDDS_DEFAULT_PROFILES_FILE", None)
    env.pop("RMW_IMPLEMENTATION", None)
    prefix = f"/hint_{uuid.uuid4().hex[:8]}"
    command = node_command(NodePlan("tracker", f"tracker_{prefix.strip('/')}",
                                    {"rgb_topic": f"{prefix}/image", "regions_topic": f"{prefix}/regions"}),
                           sys.executable)
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and not any("FASTDDS_DEFAULT_PROFILES_FILE" in line for line in lines):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
    finally:
        proc.send_signal(2)
        proc.wait(timeout=10)
    assert any("WARN" in line and "export FASTDDS_DEFAULT_PROFILES_FILE=" in line for line in lines), lines
    assert proc.returncode == 0
