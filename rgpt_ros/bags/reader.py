"""Reading rosbag2 bags (sqlite3 and MCAP) with clear errors for broken ones and an optional salvage mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Collection, Iterator, Optional

from ruamel.yaml import YAML
from rosbags.interfaces import Connection
from rosbags.rosbag2 import Reader
from rosbags.typesys.store import Typestore

from rgpt_ros.bags.errors import BagError, CorruptBagError
from rgpt_ros.bags.recovery import SalvageReader, salvage_reader
from rgpt_ros.bags.typestore import bag_typestore

STORAGE_BY_SUFFIX = {".db3": "sqlite3", ".mcap": "mcap"}


def _metadata(path: Path) -> Optional[dict]:
    try:
        data = YAML(typ="safe").load((path / "metadata.yaml").read_text())
        return data["rosbag2_bagfile_information"]
    except Exception:  # noqa: BLE001 - missing or unreadable metadata: fall back to the files
        return None


def storage_files(path: Path) -> list[Path]:
    """The storage files of a bag directory (metadata order when readable) or the file itself."""
    path = Path(path)
    if path.is_file():
        return [path]
    meta = _metadata(path)
    if meta and meta.get("relative_file_paths"):
        return [path / name for name in meta["relative_file_paths"]]
    return sorted(p for p in path.iterdir() if p.suffix in STORAGE_BY_SUFFIX)


def storage_of(path: Path) -> str:
    """``"sqlite3"`` or ``"mcap"`` for a bag directory or storage file."""
    path = Path(path)
    meta = _metadata(path) if path.is_dir() else None
    if meta and meta.get("storage_identifier") in ("sqlite3", "mcap"):
        return str(meta["storage_identifier"])
    for file in storage_files(path):
        if file.suffix in STORAGE_BY_SUFFIX:
            return STORAGE_BY_SUFFIX[file.suffix]
    raise BagError(f"bag {str(path)!r}: cannot tell its storage format (no metadata.yaml, .db3 or .mcap file)")


class BagReader:
    """One bag, read in log-time order (file order when salvaging).

    ``partial=False``: a truncated/corrupt bag raises :class:`CorruptBagError` naming the bag and
    the position. ``partial=True``: the readable messages are yielded and ``damage`` records what
    stopped the reading (None for an intact bag).
    """

    def __init__(self, path: str | Path, *, partial: bool = False) -> None:
        self.path = Path(path)
        self.partial = partial
        self.connections: list[Connection] = []
        self.damage: Optional[CorruptBagError] = None
        self._reader: Optional[Reader] = None
        self._salvage: list[SalvageReader] = []
        self._typestore: Optional[Typestore] = None
        self.messages_read = 0
        self.last_stamp_ns: Optional[int] = None

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def storage(self) -> str:
        return storage_of(self.path)

    @property
    def salvaging(self) -> bool:
        return bool(self._salvage)

    def open(self) -> "BagReader":
        if not self.path.exists():
            raise BagError(f"bag {self.name!r} does not exist")
        try:
            reader = Reader(self.path)
            reader.open()
        except Exception as exc:  # noqa: BLE001 - rosbags/apsw/yaml errors all mean "unreadable"
            self._open_salvage(f"{type(exc).__name__}: {exc}")
        else:
            self._reader = reader
            self.connections = list(reader.connections)
        return self

    def _open_salvage(self, reason: str) -> None:
        files = [f for f in storage_files(self.path) if f.exists()]
        if not files:
            raise BagError(f"bag {self.name!r} cannot be opened ({reason}) and holds no storage file to salvage")
        try:
            readers = [salvage_reader(f) for f in files]
        except ValueError as exc:
            raise CorruptBagError(self.name, f"{reason}; salvage failed: {exc}") from None
        if not self.partial:
            damage = self._measure_damage(readers, reason)
            for r in readers:
                r.close()
            raise damage
        self._salvage = readers
        by_key: dict[tuple[str, str], Connection] = {}
        for r in readers:
            for c in r.connections:
                by_key.setdefault((c.topic, c.msgtype), c)
        self.connections = list(by_key.values())
        self._salvage_reason = reason

    def _measure_damage(self, readers: list[SalvageReader], reason: str) -> CorruptBagError:
        count, last = 0, None
        for r in readers:
            for _, stamp, _ in r.messages():
                count, last = count + 1, stamp
            if r.failure:
                return CorruptBagError(self.name, f"{reason}; {r.failure}", file=str(r.path), messages_read=count,
                                       last_stamp_ns=last, byte_offset=r.byte_offset, file_size=r.file_size)
        return CorruptBagError(self.name, reason, file=str(readers[-1].path), messages_read=count,
                               last_stamp_ns=last, byte_offset=readers[-1].byte_offset,
                               file_size=readers[-1].file_size)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        for r in self._salvage:
            r.close()
        self._salvage = []

    def __enter__(self) -> "BagReader":
        return self.open()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def typestore(self) -> Typestore:
        """Types as recorded in the bag (standard Kilted + rgpt_ros types as fallback)."""
        if self._typestore is None:
            self._typestore = bag_typestore(self.connections)
        return self._typestore

    def deserialize(self, raw: bytes | memoryview, msgtype: str) -> Any:
        return self.typestore.deserialize_cdr(raw, msgtype)

    def decode(self, connection: Connection, log_time: int, raw: bytes | memoryview) -> Any:
        """Deserialise one message; CorruptBagError naming topic and log time when its bytes are damaged."""
        try:
            return self.typestore.deserialize_cdr(raw, connection.msgtype)
        except Exception as exc:  # noqa: BLE001 - rosbags raises assorted errors on garbage
            raise CorruptBagError(self.name, f"message on {connection.topic} ({connection.msgtype}) logged at "
                                  f"{log_time} ns cannot be deserialised: {type(exc).__name__}: {exc}",
                                  messages_read=self.messages_read, last_stamp_ns=self.last_stamp_ns) from exc

    @property
    def message_count(self) -> int:
        """Messages the bag's index announces (0 when unknown, e.g. while salvaging)."""
        return int(self._reader.message_count) if self._reader is not None else 0

    def topics(self) -> dict[str, str]:
        """Topic name -> message type."""
        return {c.topic: c.msgtype for c in self.connections}

    def messages(self, topics: Optional[Collection[str]] = None) -> Iterator[tuple[Connection, int, bytes]]:
        """``(connection, log_time_ns, raw_cdr)`` for every message (of ``topics`` when given)."""
        wanted = None if topics is None else set(topics)
        self.messages_read, self.last_stamp_ns, self.damage = 0, None, None
        if self._reader is not None:
            conns = [c for c in self.connections if wanted is None or c.topic in wanted]
            if not conns:  # rosbags reads everything for an empty filter
                return
            yield from self._guarded(self._reader.messages(connections=conns), None)
        else:
            for r in self._salvage:
                for conn, stamp, raw in self._guarded(r.messages(), r):
                    if wanted is None or conn.topic in wanted:
                        yield conn, stamp, raw
                if r.failure:
                    self.damage = CorruptBagError(
                        self.name, f"{self._salvage_reason}; {r.failure}", file=str(r.path),
                        messages_read=self.messages_read, last_stamp_ns=self.last_stamp_ns,
                        byte_offset=r.byte_offset, file_size=r.file_size, suggest_partial=False)
                    return

    def _guarded(self, source: Iterator[tuple[Connection, int, bytes]],
                 salvage: Optional[SalvageReader]) -> Iterator[tuple[Connection, int, bytes]]:
        """Count messages and turn mid-stream read errors into CorruptBagError (or stop when partial)."""
        while True:
            try:
                conn, stamp, raw = next(source)
            except StopIteration:
                return
            except Exception as exc:  # noqa: BLE001 - bad chunk, CRC, malformed page ...
                damage = CorruptBagError(self.name, f"{type(exc).__name__}: {exc}", messages_read=self.messages_read,
                                         last_stamp_ns=self.last_stamp_ns, suggest_partial=not self.partial)
                if not self.partial:
                    raise damage from exc
                self.damage = damage
                return
            self.messages_read += 1
            self.last_stamp_ns = stamp
            yield conn, stamp, raw
