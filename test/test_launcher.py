"""Process-level settings the node launcher applies: thread niceness, the frozen GC heap, freed heap
returned to the system."""

from __future__ import annotations

import gc
import os
import threading

import pytest

from pathlib import Path

import numpy as np

from rgpt_ros.ros.launcher import (DEFAULT_MALLOC_TRIM_S, lower_thread_priority, memory_trim_period_s,
                                   release_free_memory, settle_garbage_collector)

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


def _heap_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024.0
    pytest.skip("no RssAnon in /proc/self/status")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_release_free_memory_hands_freed_heap_back():
    chunks = [np.ones(8192) for _ in range(2000)]  # 128 MB in 64 KiB blocks: heap, below the mmap threshold
    pinned = np.ones(8192)  # allocated last: the heap top stays in use, so free() alone returns nothing
    grown = _heap_mb()
    del chunks
    assert _heap_mb() > grown - 32, "glibc kept the freed blocks (what the trim is for)"
    assert release_free_memory()
    assert _heap_mb() < grown - 96
    del pinned


@pytest.mark.parametrize("value, expected", [(None, DEFAULT_MALLOC_TRIM_S), ("0", 0.0), ("2.5", 2.5),
                                             ("-1", 0.0), ("often", DEFAULT_MALLOC_TRIM_S)])
def test_memory_trim_period_comes_from_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("RGPT_MALLOC_TRIM_S", raising=False)
    else:
        monkeypatch.setenv("RGPT_MALLOC_TRIM_S", value)
    assert memory_trim_period_s() == expected
