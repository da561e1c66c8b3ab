"""Salvage readers for truncated or corrupt rosbag2 storage files (sqlite3 and MCAP).

rosbags refuses such files at open time; these readers yield every message stored before
the damage, in file order, then stop and record why and where (``failure``, ``byte_offset``).
They are used for ``--partial`` and to say how far a broken bag is readable.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import tempfile
from pathlib import Path
from typing import Iterator, Optional

from rosbags.interfaces import Connection, ConnectionExtRosbag2, MessageDefinition, MessageDefinitionFormat
from rosbags.rosbag2.metadata import parse_qos
from rosbags.rosbag2.storage_mcap import McapReader, read_sized

_MCAP_MAGIC = b"\x89MCAP0\r\n"
_MSGDEF_FORMATS = {"ros2msg": MessageDefinitionFormat.MSG, "ros2idl": MessageDefinitionFormat.IDL}


class SalvageReader:
    """Common interface: ``connections``, ``messages()``, and after iteration ``failure``/``byte_offset``."""

    path: Path
    connections: list[Connection]
    failure: Optional[str] = None
    byte_offset: Optional[int] = None

    def messages(self) -> Iterator[tuple[Connection, int, bytes]]:
        raise NotImplementedError

    def close(self) -> None:
        """Release files."""

    @property
    def file_size(self) -> int:
        return self.path.stat().st_size


class McapSalvageReader(SalvageReader):
    """Scans an MCAP file from the start, ignoring the (missing) footer and summary."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._reader = McapReader(self.path)
        self.failure = None
        self.byte_offset = None
        bio = self.path.open("rb")
        self._reader.bio = bio
        try:
            if bio.read(8) != _MCAP_MAGIC:
                raise ValueError("file magic is not MCAP")
            if bio.read(1) != b"\x01":
                raise ValueError("MCAP header record is missing")
            read_sized(bio)
        except Exception as exc:
            bio.close()
            raise ValueError(f"{self.path}: not a readable MCAP file ({exc})") from exc
        self._reader.data_start = bio.tell()
        self._reader.data_end = self.file_size
        try:  # collects schemas and channels up to the damage
            self._reader.meta_scan()
        except Exception:  # noqa: BLE001 - any parse error marks the damage; channels found so far stay
            pass
        self.connections = list(self._reader.connections)

    def messages(self) -> Iterator[tuple[Connection, int, bytes]]:
        bio = self._reader.bio
        assert bio is not None
        self.byte_offset = self._reader.data_start
        try:
            for message in self._reader.messages_scan(self.connections):
                self.byte_offset = bio.tell()  # end of the record (or chunk) holding this message
                yield message
        except Exception as exc:  # noqa: BLE001 - truncated record, bad chunk, CRC mismatch ...
            self.failure = str(exc) or type(exc).__name__

    def close(self) -> None:
        if self._reader.bio is not None:
            self._reader.bio.close()


class Sqlite3SalvageReader(SalvageReader):
    """Reads a truncated sqlite3 bag through a zero-padded temporary copy, row by row until the damage."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.failure = None
        self.byte_offset = None
        self._tmpdir = tempfile.mkdtemp(prefix="rgpt-salvage-")
        padded = Path(self._tmpdir) / self.path.name
        shutil.copyfile(self.path, padded)
        with padded.open("rb") as f:
            header = f.read(100)
        if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
            self.close()
            raise ValueError(f"{self.path}: not an SQLite database (header missing)")
        page_size = struct.unpack(">H", header[16:18])[0]
        page_size = 65536 if page_size == 1 else page_size
        page_count = struct.unpack(">I", header[28:32])[0]
        self._page_size = page_size
        if padded.stat().st_size < page_size * page_count:
            os.truncate(padded, page_size * page_count)  # missing pages read as zeros -> "malformed" there
        self._db = sqlite3.connect(f"file:{padded}?immutable=1&mode=ro", uri=True)
        try:
            self.connections = self._read_connections()
        except sqlite3.DatabaseError as exc:
            self.close()
            raise ValueError(f"{self.path}: topic table is unreadable ({exc})") from exc

    def _read_connections(self) -> list[Connection]:
        db = self._db
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        columns = {row[1] for row in db.execute("PRAGMA table_info(topics)")}
        msgdefs: dict[str, MessageDefinition] = {}
        if "message_definitions" in tables:
            for name, encoding, text in db.execute(
                    "SELECT topic_type, encoding, encoded_message_definition FROM message_definitions"):
                if encoding in _MSGDEF_FORMATS:
                    msgdefs[name] = MessageDefinition(_MSGDEF_FORMATS[encoding], text)
        qos_col = "offered_qos_profiles" if "offered_qos_profiles" in columns else "''"
        hash_col = "type_description_hash" if "type_description_hash" in columns else "''"
        rows = db.execute(f"SELECT id, name, type, serialization_format, {qos_col}, {hash_col} FROM topics ORDER BY id")
        none = MessageDefinition(MessageDefinitionFormat.NONE, "")
        return [Connection(cid, topic, msgtype, msgdefs.get(msgtype, none),
                           digest or "", 0, ConnectionExtRosbag2(fmt, parse_qos(qos) if qos else []), None)
                for cid, topic, msgtype, fmt, qos, digest in rows]

    def messages(self) -> Iterator[tuple[Connection, int, bytes]]:
        by_id = {c.id: c for c in self.connections}
        last_id = 0
        try:
            for row_id, topic_id, stamp, data in self._db.execute(
                    "SELECT id, topic_id, timestamp, data FROM messages ORDER BY id"):
                last_id = row_id
                if topic_id in by_id:
                    yield by_id[topic_id], stamp, data
        except sqlite3.DatabaseError as exc:
            self.failure = f"{exc} (after message row {last_id})"

    def close(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()
            self._db = None
        shutil.rmtree(self._tmpdir, ignore_errors=True)


def salvage_reader(storage_file: Path) -> SalvageReader:
    """The salvage reader for one storage file, chosen by its suffix (.mcap / .db3)."""
    storage_file = Path(storage_file)
    if storage_file.suffix == ".mcap":
        return McapSalvageReader(storage_file)
    if storage_file.suffix == ".db3":
        return Sqlite3SalvageReader(storage_file)
    raise ValueError(f"{storage_file}: unknown storage file type (expected .mcap or .db3)")
