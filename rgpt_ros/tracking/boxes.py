"""Small box helpers shared by the tracker, its tests and benchmarks. Boxes are (x1, y1, x2, y2)."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

Box = tuple[float, float, float, float]


def box_iou(a: Optional[Sequence[float]], b: Optional[Sequence[float]]) -> float:
    """Intersection over union of two boxes; 0.0 when either is None or empty."""
    if a is None or b is None:
        return 0.0
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def box_centre(box: Sequence[float]) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0])


def box_size(box: Sequence[float]) -> np.ndarray:
    return np.array([box[2] - box[0], box[3] - box[1]], dtype=np.float64)


def box_from_centre(centre: Sequence[float], size: Sequence[float]) -> Box:
    cx, cy = float(centre[0]), float(centre[1])
    w, h = float(size[0]), float(size[1])
    return (cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0)


def clip_box(box: Sequence[float], width: int, height: int) -> Optional[Box]:
    """Box clipped to the image, or None when nothing of it is inside."""
    x1, y1 = max(0.0, float(box[0])), max(0.0, float(box[1]))
    x2, y2 = min(float(width), float(box[2])), min(float(height), float(box[3]))
    return (x1, y1, x2, y2) if (x2 > x1 and y2 > y1) else None
