"""Errors raised by bag reading, topic detection and annotation (all ValueError subclasses)."""

from __future__ import annotations

from typing import Optional


class BagError(ValueError):
    """A bag that cannot be used as asked; the message names the bag."""


class CorruptBagError(BagError):
    """A truncated or corrupt bag; says where reading stopped and how much was readable."""

    def __init__(self, bag: str, reason: str, *, file: str = "", messages_read: int = 0,
                 last_stamp_ns: Optional[int] = None, byte_offset: Optional[int] = None,
                 file_size: Optional[int] = None, suggest_partial: bool = True) -> None:
        self.bag, self.reason, self.file = bag, reason, file
        self.suggest_partial = suggest_partial
        self.messages_read, self.last_stamp_ns = messages_read, last_stamp_ns
        self.byte_offset, self.file_size = byte_offset, file_size
        super().__init__(self._text())

    @property
    def position(self) -> str:
        """Where reading stopped, in words."""
        where = [f"after {self.messages_read} readable message(s)"]
        if self.last_stamp_ns is not None:
            where.append(f"last log time {self.last_stamp_ns} ns")
        if self.byte_offset is not None:
            size = f" of {self.file_size}" if self.file_size is not None else ""
            where.append(f"readable up to byte {self.byte_offset}{size}")
        return ", ".join(where)

    def _text(self) -> str:
        file = f" (file {self.file})" if self.file else ""
        hint = " Use --partial to annotate the readable part." if self.suggest_partial else ""
        return f"bag {self.bag!r}{file} is truncated or corrupt: {self.reason}; stopped {self.position}.{hint}"


class TopicDetectionError(BagError):
    """The RGB, depth or camera_info topic is missing or ambiguous; lists the bag's topics."""
