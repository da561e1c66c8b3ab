"""Approximate time synchronisation of named message streams (ROS-free, thread-safe).

Semantics follow ``message_filters.ApproximateTimeSynchronizer`` (Python): every stream keeps the
``queue_size`` newest messages; when a message arrives, the closest message of every other stream
within ``slop`` seconds of it is looked up and, if the whole set spans at most ``slop``, the set is
emitted and removed. On top of that:

- sets are emitted in stamp order: after a set is emitted, older messages of every stream are dropped
  as stale, and late (out-of-order) arrivals older than the last emitted set are dropped on arrival;
- "static" streams (camera_info) keep only their latest message, match any stamp and are attached
  to every emitted set; a set is not emitted before each static stream has a value.
Each ``add`` costs O(queue_size) per stream.
"""

from __future__ import annotations

import bisect
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence


def stamp_to_ns(stamp: Any) -> int:
    """``builtin_interfaces/Time``-like (``sec``/``nanosec``) or an int of nanoseconds -> int ns."""
    if isinstance(stamp, (int,)) and not isinstance(stamp, bool):
        return int(stamp)
    if hasattr(stamp, "sec") and hasattr(stamp, "nanosec"):
        return int(stamp.sec) * 1_000_000_000 + int(stamp.nanosec)
    raise ValueError(f"cannot read a time stamp from {stamp!r} (need int ns or sec/nanosec)")


@dataclass
class MatchedSet:
    """One synchronised set: ``messages`` in stream order, their ``stamps`` (ns) and the static values."""

    names: tuple[str, ...]
    messages: tuple[Any, ...]
    stamps: tuple[int, ...]
    static: dict[str, Any] = field(default_factory=dict)

    @property
    def stamp_ns(self) -> int:
        """The first (reference) stream's stamp."""
        return self.stamps[0]

    def __getitem__(self, name: str) -> Any:
        if name in self.static:
            return self.static[name]
        if name not in self.names:
            raise KeyError(f"no stream {name!r} in this set; have {list(self.names) + list(self.static)}")
        return self.messages[self.names.index(name)]


class ApproximateTimeSynchronizer:
    """Match messages of ``streams`` whose stamps lie within ``slop`` seconds of each other."""

    def __init__(self, streams: Sequence[str], queue_size: int = 10, slop: float = 0.02,
                 static: Sequence[str] = ()) -> None:
        streams, static = list(streams), list(static)
        if not streams:
            raise ValueError("need at least one synchronised stream")
        names = streams + static
        if len(set(names)) != len(names) or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"stream names must be unique non-empty strings, got {names}")
        if int(queue_size) < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size!r}")
        if not slop >= 0:
            raise ValueError(f"slop must be >= 0 seconds, got {slop!r}")
        self.streams, self.static_streams = tuple(streams), tuple(static)
        self.queue_size, self.slop_ns = int(queue_size), int(round(slop * 1e9))
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[MatchedSet], None]] = []
        self.reset()

    def reset(self) -> None:
        """Forget all queued messages, static values, the emission horizon and the counters."""
        with getattr(self, "_lock", threading.Lock()):
            self._stamps: dict[str, list[int]] = {n: [] for n in self.streams}
            self._msgs: dict[str, list[Any]] = {n: [] for n in self.streams}
            self._static: dict[str, Any] = {}
            self._emitted_up_to: dict[str, int] = {}
            self.dropped: dict[str, int] = {n: 0 for n in self.streams}
            self.emitted = 0

    def register_callback(self, callback: Callable[[MatchedSet], None]) -> None:
        """Call ``callback(matched_set)`` for every emitted set (outside the lock)."""
        self._callbacks.append(callback)

    def add(self, name: str, stamp: Any, msg: Any) -> list[MatchedSet]:
        """Add a message; returns the sets it completed in stamp order (usually zero or one; a static
        value arriving last can release several). Each is also passed to the callbacks."""
        with self._lock:
            if name in self.static_streams:
                self._static[name] = msg
                matches = self._match_all()
            elif name in self.streams:
                match = self._add_stream(name, stamp_to_ns(stamp), msg)
                matches = [match] if match is not None else []
            else:
                raise ValueError(f"unknown stream {name!r}; streams are {list(self.streams + self.static_streams)}")
        for match in matches:
            for callback in self._callbacks:
                callback(match)
        return matches

    def add_msg(self, name: str, msg: Any) -> list[MatchedSet]:
        """``add`` with the stamp read from ``msg.header.stamp`` (ROS messages)."""
        return self.add(name, msg.header.stamp if name in self.streams else 0, msg)

    def pending(self) -> dict[str, int]:
        with self._lock:
            return {n: len(self._stamps[n]) for n in self.streams}

    # -- internals (lock held) ------------------------------------------------------------------
    def _add_stream(self, name: str, stamp: int, msg: Any) -> Optional[MatchedSet]:
        stamps, msgs = self._stamps[name], self._msgs[name]
        if name in self._emitted_up_to and stamp <= self._emitted_up_to[name]:
            self.dropped[name] += 1  # older than a set already emitted
            return None
        k = bisect.bisect_right(stamps, stamp)
        stamps.insert(k, stamp)
        msgs.insert(k, msg)
        if len(stamps) > self.queue_size:
            del stamps[0], msgs[0]
            self.dropped[name] += 1
            if k == 0:  # the new message itself was the oldest
                return None
            k -= 1
        return self._match(name, k)

    def _candidates(self, name: str, stamp: int) -> list[int]:
        """Indices of ``name``'s messages within slop of ``stamp``, closest first."""
        stamps = self._stamps[name]
        lo = bisect.bisect_left(stamps, stamp - self.slop_ns)
        hi = bisect.bisect_right(stamps, stamp + self.slop_ns)
        return sorted(range(lo, hi), key=lambda i: abs(stamps[i] - stamp))

    def _match(self, pivot: str, pivot_index: int) -> Optional[MatchedSet]:
        if any(s not in self._static for s in self.static_streams):
            return None
        stamp = self._stamps[pivot][pivot_index]
        options = []
        for name in self.streams:
            options.append([pivot_index] if name == pivot else self._candidates(name, stamp))
            if not options[-1]:
                return None
        for choice in itertools.product(*options):
            chosen = [self._stamps[n][i] for n, i in zip(self.streams, choice)]
            if max(chosen) - min(chosen) <= self.slop_ns:
                return self._emit(choice)
        return None

    def _match_all(self) -> list[MatchedSet]:
        """After a static value arrives: every set that can be completed now, oldest first."""
        first, matches, i = self.streams[0], [], 0
        while i < len(self._stamps[first]):
            match = self._match(first, i)
            if match is None:
                i += 1
            else:
                matches.append(match)
                i = 0  # the emitted message and everything older are gone
        return matches

    def _emit(self, choice: Sequence[int]) -> MatchedSet:
        messages, stamps = [], []
        for name, i in zip(self.streams, choice):
            messages.append(self._msgs[name][i])
            stamps.append(self._stamps[name][i])
            self._emitted_up_to[name] = self._stamps[name][i]
            self.dropped[name] += i  # older messages of this stream can no longer be emitted in order
            del self._stamps[name][: i + 1], self._msgs[name][: i + 1]
        self.emitted += 1
        return MatchedSet(self.streams, tuple(messages), tuple(stamps), dict(self._static))


class LatestCache:
    """Thread-safe latest-value cache keyed by name (camera_info and other slow/static topics)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, tuple[int, Any]] = {}

    def put(self, name: str, msg: Any, stamp_ns: int = 0) -> None:
        with self._lock:
            self._values[name] = (int(stamp_ns), msg)

    def get(self, name: str, default: Any = None) -> Any:
        with self._lock:
            return self._values.get(name, (0, default))[1]

    def stamp(self, name: str) -> Optional[int]:
        with self._lock:
            return self._values[name][0] if name in self._values else None

    def __contains__(self, name: str) -> bool:
        with self._lock:
            return name in self._values
