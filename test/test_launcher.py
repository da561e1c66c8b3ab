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
