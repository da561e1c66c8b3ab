"""A short, thread-safe history of synchronised frames, looked up by stamp."""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass
from typing import Generic, Optional, TypeVar

T = TypeVar("T")


class FrameLookupError(LookupError):
    """No frame is buffered, or none near the requested stamp."""


@dataclass
class _Entry(Generic[T]):
    stamp_ns: int
    item: T


class FrameBuffer(Generic[T]):
    """Keeps the ``capacity`` most recent items by stamp; the oldest are dropped, never queued."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._stamps: list[int] = []
        self._items: list[T] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def add(self, stamp_ns: int, item: T) -> None:
        with self._lock:
            index = bisect.bisect_right(self._stamps, stamp_ns)
            self._stamps.insert(index, stamp_ns)
            self._items.insert(index, item)
            if len(self._items) > self.capacity:
                del self._stamps[0]
                del self._items[0]

    def latest(self) -> tuple[int, T]:
        with self._lock:
            if not self._items:
                raise FrameLookupError("no synchronised frame received yet")
            return self._stamps[-1], self._items[-1]

    def nearest(self, stamp_ns: int, tolerance_ns: int) -> tuple[int, T]:
        """The buffered item closest to ``stamp_ns``; FrameLookupError when none is within tolerance."""
        with self._lock:
            if not self._items:
                raise FrameLookupError("no synchronised frame received yet")
            index = bisect.bisect_left(self._stamps, stamp_ns)
            candidates = [i for i in (index - 1, index) if 0 <= i < len(self._stamps)]
            best = min(candidates, key=lambda i: abs(self._stamps[i] - stamp_ns))
            if abs(self._stamps[best] - stamp_ns) > tolerance_ns:
                span = (self._stamps[0] / 1e9, self._stamps[-1] / 1e9)
                raise FrameLookupError(f"no frame within {tolerance_ns / 1e6:.0f} ms of {stamp_ns / 1e9:.3f} s "
                                       f"(buffer holds {span[0]:.3f}..{span[1]:.3f} s)")
            return self._stamps[best], self._items[best]

    def get(self, stamp_ns: Optional[int], tolerance_ns: int) -> tuple[int, T]:
        """``latest()`` when ``stamp_ns`` is None or 0, else ``nearest()``."""
        return self.latest() if not stamp_ns else self.nearest(stamp_ns, tolerance_ns)
