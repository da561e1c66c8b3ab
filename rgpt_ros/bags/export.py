"""Per-frame annotation table as CSV (one row per synchronised frame)."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Sequence

from rgpt_ros.bags.records import FrameRecord

BASE_COLUMNS = ["frame", "stamp_ns", "distance_m", "reward", "valid", "progress", "success", "status"]
BOX_FIELDS = ["x1", "y1", "x2", "y2", "tracked"]


def region_ids(records: Sequence[FrameRecord]) -> list[str]:
    """Region ids in first-seen order."""
    ids: dict[str, None] = {}
    for record in records:
        for rid in record.boxes:
            ids.setdefault(rid)
    return list(ids)


def csv_columns(ids: Sequence[str]) -> list[str]:
    return BASE_COLUMNS + [f"{rid}_{name}" for rid in ids for name in BOX_FIELDS]


def _number(value: float) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.6g}"


def write_csv(records: Sequence[FrameRecord], path: str | Path) -> Path:
    """Write ``records``; distance is empty when invalid, boxes are empty while a region is lost."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = region_ids(records)
    tmp = path.with_name(path.name + ".partial")
    with tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(csv_columns(ids))
        for r in records:
            row = [r.frame, r.stamp_ns, _number(r.distance_m), _number(r.reward), int(r.valid), _number(r.progress),
                   int(r.success), r.status]
            for rid in ids:
                box = r.boxes.get(rid)
                row += list(box) if box is not None else ["", "", "", ""]
                row.append(int(r.tracked.get(rid, box is not None)))
            writer.writerow(row)
    tmp.replace(path)
    return path
