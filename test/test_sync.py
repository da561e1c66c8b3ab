"""Approximate time synchroniser: matching, lag, out-of-order, staleness, static streams, threads."""

import threading
from types import SimpleNamespace

import pytest

from rgpt_ros.sync import ApproximateTimeSynchronizer, LatestCache, stamp_to_ns

MS = 1_000_000
PERIOD = 33 * MS


def test_depth_lagging_colour_is_matched_in_order():
    sync = ApproximateTimeSynchronizer(["color", "depth"], queue_size=5, slop=0.01)
    out = []
    sync.register_callback(out.append)
    for k in range(4):
        assert sync.add("color", k * PERIOD, f"c{k}") == []
        got = sync.add("depth", k * PERIOD + 4 * MS, f"d{k}")
        assert len(got) == 1 and got[0]["depth"] == f"d{k}"
    assert [m.messages for m in out] == [(f"c{k}", f"d{k}") for k in range(4)]
    assert [m.stamp_ns for m in out] == [k * PERIOD for k in range(4)]
    assert sync.pending() == {"color": 0, "depth": 0} and sync.emitted == 4


def test_out_of_order_and_stale_messages():
    sync = ApproximateTimeSynchronizer(["color", "depth"], queue_size=10, slop=0.01)
    sync.add("depth", 2 * PERIOD, "d2")       # depth ahead of colour
    sync.add("color", 1 * PERIOD, "c1")       # no depth for it yet
    got = sync.add("color", 2 * PERIOD + 3 * MS, "c2")
    assert [m.messages for m in got] == [("c2", "d2")]
    assert sync.dropped["color"] == 1         # c1 can no longer be emitted in order
    assert sync.add("depth", 1 * PERIOD, "d1") == []  # late arrival older than the emitted set
    assert sync.dropped["depth"] == 1 and sync.pending() == {"color": 0, "depth": 0}


def test_slop_and_queue_limits():
    sync = ApproximateTimeSynchronizer(["a", "b"], queue_size=3, slop=0.005)
    sync.add("a", 0, "a0")
    assert sync.add("b", 6 * MS, "b0") == []  # 6 ms apart > 5 ms slop
    for k in range(1, 4):
        sync.add("a", k * PERIOD, f"a{k}")
    assert sync.pending()["a"] == 3 and sync.dropped["a"] == 1  # a0 fell out of the queue
    got = sync.add("b", 3 * PERIOD + 5 * MS, "b3")
    assert got[0].messages == ("a3", "b3") and sync.dropped["a"] == 3 and sync.dropped["b"] == 1
    for k in range(5, 8):
        sync.add("a", k * PERIOD, f"a{k}")
    assert sync.add("a", 4 * PERIOD, "a4") == [] and sync.pending()["a"] == 3  # full queue: the older new one goes
    assert sync.dropped["a"] == 4


def test_picks_the_closest_candidate():
    sync = ApproximateTimeSynchronizer(["a", "b"], queue_size=10, slop=0.02)
    sync.add("b", 100 * MS, "far")
    sync.add("b", 108 * MS, "near")
    assert sync.add("a", 110 * MS, "a")[0].messages == ("a", "near")


def test_three_streams_need_a_tight_set():
    sync = ApproximateTimeSynchronizer(["c", "d", "e"], queue_size=10, slop=0.01)
    sync.add("c", 0, "c")
    sync.add("d", 9 * MS, "d")
    assert sync.add("e", -8 * MS, "e_bad") == []   # within slop of d? no: set spans 17 ms
    assert sync.add("e", 4 * MS, "e")[0].messages == ("c", "d", "e")


def test_static_stream_is_required_and_attached():
    sync = ApproximateTimeSynchronizer(["color", "depth"], static=["info"], queue_size=10, slop=0.01)
    for k in range(3):
        sync.add("color", k * PERIOD, f"c{k}")
        assert sync.add("depth", k * PERIOD + 2 * MS, f"d{k}") == []
    released = sync.add("info", 0, "K1")
    assert [m.messages for m in released] == [(f"c{k}", f"d{k}") for k in range(3)]
    assert all(m["info"] == "K1" for m in released)
    sync.add("info", 0, "K2")
    sync.add("color", 3 * PERIOD, "c3")
    assert sync.add("depth", 3 * PERIOD, "d3")[0]["info"] == "K2"


def test_threads_deliver_every_set_once():
    n = 400
    sync = ApproximateTimeSynchronizer(["color", "depth"], queue_size=n, slop=0.01)
    out, lock = [], threading.Lock()

    def collect(m):
        with lock:
            out.append(m.stamps)

    sync.register_callback(collect)

    def feed(name, lag):
        for k in range(n):
            sync.add(name, k * PERIOD + lag, k)

    threads = [threading.Thread(target=feed, args=("color", 0)), threading.Thread(target=feed, args=("depth", 3 * MS))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(out) == [(k * PERIOD, k * PERIOD + 3 * MS) for k in range(n)]
    assert sync.dropped == {"color": 0, "depth": 0}


def test_ros_like_stamps_and_errors():
    assert stamp_to_ns(SimpleNamespace(sec=2, nanosec=5)) == 2_000_000_005
    sync = ApproximateTimeSynchronizer(["a", "b"], slop=0.01)
    msg = SimpleNamespace(header=SimpleNamespace(stamp=SimpleNamespace(sec=1, nanosec=0)))
    sync.add_msg("a", msg)
    assert sync.add_msg("b", msg)[0].stamps == (1_000_000_000, 1_000_000_000)
    with pytest.raises(ValueError, match="unknown stream 'c'"):
        sync.add("c", 0, None)
    with pytest.raises(ValueError, match="time stamp"):
        sync.add("a", "yesterday", None)
    with pytest.raises(ValueError, match="slop"):
        ApproximateTimeSynchronizer(["a"], slop=-1)
    with pytest.raises(ValueError, match="unique"):
        ApproximateTimeSynchronizer(["a", "a"])
    with pytest.raises(ValueError, match="queue_size"):
        ApproximateTimeSynchronizer(["a"], queue_size=0)


def test_latest_cache():
    cache = LatestCache()
    assert "info" not in cache and cache.get("info", "none") == "none" and cache.stamp("info") is None
    cache.put("info", "K1", 5)
    cache.put("info", "K2", 9)
    assert cache.get("info") == "K2" and cache.stamp("info") == 9 and "info" in cache
