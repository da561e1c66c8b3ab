"""rosbags typestores: ROS 2 standard types plus rgpt_ros's own messages from ``msg/*.msg``.

The package's ``.msg`` files are the single source of truth; they are found next to the
source checkout, in ``$AMENT_PREFIX_PATH/share/rgpt_ros/msg`` (colcon install) or in
``<prefix>/share/rgpt_ros/msg`` (pip install with data files).
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Iterable, Optional

from rosbags.interfaces import Connection, MessageDefinitionFormat
from rosbags.typesys import Stores, get_types_from_idl, get_types_from_msg, get_typestore
from rosbags.typesys.store import Typestore

from rgpt_ros.bags.errors import BagError

PACKAGE = "rgpt_ros"
BASE_STORE = Stores.ROS2_KILTED
REGION = "rgpt_ros/msg/Region"
REGION_ARRAY = "rgpt_ros/msg/RegionArray"
SPATIAL_REWARD = "rgpt_ros/msg/SpatialReward"


def msg_dir_candidates() -> list[Path]:
    """Places the package's ``msg`` directory may be, most specific first."""
    here = Path(__file__).resolve().parent.parent  # .../rgpt_ros
    candidates = [here.parent / "msg"]
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if prefix:
            candidates.append(Path(prefix) / "share" / PACKAGE / "msg")
    candidates += [Path(sys.prefix) / "share" / PACKAGE / "msg", Path(sys.base_prefix) / "share" / PACKAGE / "msg"]
    return candidates


def find_msg_dir() -> Path:
    """The directory holding ``Region.msg`` etc.; BagError listing where it looked."""
    candidates = msg_dir_candidates()
    for path in candidates:
        if (path / "SpatialReward.msg").is_file():
            return path
    raise BagError("cannot find rgpt_ros's msg/*.msg files; looked in " + ", ".join(str(p) for p in candidates))


def package_msg_types(msg_dir: Optional[Path] = None) -> dict:
    """Parsed rgpt_ros message types from the ``.msg`` files (``rgpt_ros/msg/<Name>`` -> definition)."""
    msg_dir = msg_dir or find_msg_dir()
    types: dict = {}
    for path in sorted(msg_dir.glob("*.msg")):
        types.update(get_types_from_msg(path.read_text(), f"{PACKAGE}/msg/{path.stem}"))
    return types


@functools.lru_cache(maxsize=1)
def rgpt_typestore() -> Typestore:
    """ROS 2 Kilted standard types + rgpt_ros messages (serialises the annotation topics)."""
    store = get_typestore(BASE_STORE)
    store.register(package_msg_types())
    return store


def types_from_definition(msgtype: str, fmt: MessageDefinitionFormat, data: str) -> dict:
    """Types defined by a recorded message definition (``.msg`` or IDL text; empty when there is none)."""
    if fmt == MessageDefinitionFormat.MSG:
        return get_types_from_msg(data, msgtype)
    if fmt == MessageDefinitionFormat.IDL:
        sep = "=" * 80 + "\n"
        types: dict = {}
        parts = data.split(sep)[1:] if data.startswith(f"{sep}IDL: ") else [data]
        for part in parts:
            types.update(get_types_from_idl(part.split("\n", 1)[1] if part.startswith("IDL: ") else part))
        return types
    return {}


def bag_typestore(connections: Iterable[Connection]) -> Typestore:
    """A typestore that deserialises the bag as recorded: its own definitions, standard ones as fallback.

    Cached by the set of definitions, so a dataset of bags from one robot builds it once per process.
    """
    key = frozenset((c.msgtype, c.msgdef.format, c.msgdef.data) for c in connections)
    return _bag_typestore(key)


@functools.lru_cache(maxsize=32)
def _bag_typestore(definitions: frozenset) -> Typestore:
    store = get_typestore(Stores.EMPTY)
    types: dict = {}
    for msgtype, fmt, data in sorted(definitions, key=lambda d: (d[0], d[2])):
        try:
            types.update(types_from_definition(msgtype, fmt, data))
        except Exception as exc:  # rosbags raises its own parse errors
            raise BagError(f"cannot parse the recorded message definition of {msgtype}: {exc}") from exc
    store.register(types)
    fallback = rgpt_typestore()
    missing = {name: fallback.fielddefs[name] for name in fallback.fielddefs if name not in store.fielddefs}
    store.register(missing)
    return store
