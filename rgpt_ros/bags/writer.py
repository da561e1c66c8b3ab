"""Writing a new rosbag2 bag atomically: built under ``OUT.partial-XXXX/`` and renamed to ``OUT`` on success."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path
from typing import Any, Optional

from rosbags.interfaces import Connection, MessageDefinitionFormat
from rosbags.rosbag2 import StoragePlugin, Writer
from rosbags.typesys.store import Typestore

from rgpt_ros.bags.errors import BagError
from rgpt_ros.bags.mcap_fast import FastWriter

STORAGES = {"sqlite3": StoragePlugin.SQLITE3, "mcap": StoragePlugin.MCAP}


def storage_plugin(storage: str) -> StoragePlugin:
    if storage not in STORAGES:
        raise BagError(f"unknown bag storage {storage!r}; choose one of {sorted(STORAGES)}")
    return STORAGES[storage]


class AtomicBagWriter:
    """A rosbag2 (version 9) writer whose output appears at ``out_path`` only when closed successfully.

    The bag is written to ``<out>.partial-<random>/<out name>`` next to the destination and renamed
    into place at the end; on any error the temporary directory is removed and nothing is left.
    """

    def __init__(self, out_path: str | Path, storage: str = "sqlite3", *, overwrite: bool = False) -> None:
        self.out_path = Path(out_path)
        self.plugin = storage_plugin(storage)
        self.overwrite = overwrite
        if self.out_path.exists() and not overwrite:
            raise BagError(f"output {str(self.out_path)!r} exists already (pass overwrite to replace it)")
        self.tmp_dir = self.out_path.parent / f"{self.out_path.name}.partial-{secrets.token_hex(4)}"
        self._writer: Optional[Writer] = None
        self._copied: dict[tuple[str, str, str], Connection] = {}

    def open(self) -> "AtomicBagWriter":
        self.out_path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir()
        self._writer = FastWriter(self.tmp_dir / self.out_path.name, version=9, storage_plugin=self.plugin)
        self._writer.open()
        return self

    @property
    def writer(self) -> Writer:
        if self._writer is None:
            raise BagError("bag writer is not open")
        return self._writer

    def copy_connection(self, connection: Connection, typestore: Typestore) -> Connection:
        """A connection in the new bag identical to ``connection`` (definition, hash, QoS, format)."""
        key = (connection.topic, connection.msgtype, repr(connection.ext))
        if key in self._copied:
            return self._copied[key]
        msgdef, digest = connection.msgdef.data, connection.digest
        try:
            if connection.msgdef.format == MessageDefinitionFormat.NONE or not msgdef:
                msgdef = typestore.generate_msgdef(connection.msgtype, ros_version=2)[0]
            if not digest:
                digest = typestore.hash_rihs01(connection.msgtype)
        except Exception as exc:  # noqa: BLE001 - unknown type without a recorded definition
            raise BagError(f"topic {connection.topic!r} ({connection.msgtype}) has no message definition in the "
                           f"bag and the type is unknown: {exc}") from exc
        ext = connection.ext
        new = self.writer.add_connection(connection.topic, connection.msgtype, msgdef=msgdef, rihs01=digest,
                                         serialization_format=getattr(ext, "serialization_format", "cdr"),
                                         offered_qos_profiles=list(getattr(ext, "offered_qos_profiles", []) or []))
        self._copied[key] = new
        return new

    def add_topic(self, topic: str, msgtype: str, typestore: Typestore) -> Connection:
        """A new topic whose definition and hash come from ``typestore``."""
        return self.writer.add_connection(topic, msgtype, typestore=typestore)

    def write(self, connection: Connection, stamp_ns: int, raw: bytes | memoryview) -> None:
        self.writer.write(connection, stamp_ns, raw)

    def commit(self) -> Path:
        """Close the bag and move it into place."""
        self.writer.close()
        self._writer = None
        built = self.tmp_dir / self.out_path.name
        if self.out_path.exists() and self.overwrite:
            trash = self.tmp_dir / "replaced"
            self.out_path.rename(trash)
        built.rename(self.out_path)
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        return self.out_path

    def abort(self) -> None:
        """Drop everything written so far."""
        if self._writer is not None:
            try:
                self._writer.abort()
            except Exception:  # noqa: BLE001 - best effort, the directory is removed anyway
                pass
            self._writer = None
        shutil.rmtree(self.tmp_dir, ignore_errors=True)

    def __enter__(self) -> "AtomicBagWriter":
        return self.open()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.abort()
                raise
        else:
            self.abort()
