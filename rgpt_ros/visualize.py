"""Debug drawings: tracked regions and the current measurement on the colour image."""

from __future__ import annotations

from typing import Optional, Sequence

import cv2
import numpy as np

from rgpt_ros.geometry.regions import Region, RegionError

_COLOURS = [(255, 80, 80), (80, 200, 255), (120, 255, 120), (255, 200, 60), (220, 120, 255), (255, 255, 255)]


def draw_regions(rgb: np.ndarray, regions: Sequence[Region], caption: Optional[str] = None) -> np.ndarray:
    """A copy of ``rgb`` with every region's box and id (dashed-looking thin box when lost) and a caption."""
    out = np.ascontiguousarray(rgb.copy())
    h, w = out.shape[:2]
    for i, region in enumerate(regions):
        colour = _COLOURS[i % len(_COLOURS)]
        try:
            x1, y1, x2, y2 = region.bounding_box(h, w)
        except RegionError:
            continue
        thickness = 2 if region.tracked else 1
        cv2.rectangle(out, (x1, y1), (x2 - 1, y2 - 1), colour, thickness)
        label = region.id if region.tracked else f"{region.id} (lost)"
        cv2.putText(out, label, (x1, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
    if caption:
        cv2.rectangle(out, (0, 0), (w, 22), (0, 0, 0), -1)
        cv2.putText(out, caption, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1, cv2.LINE_AA)
    return out
