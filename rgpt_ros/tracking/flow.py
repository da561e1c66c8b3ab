"""Median flow: pyramidal Lucas-Kanade on good features inside a box, forward-backward checked."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Optional, Sequence

import cv2
import numpy as np

from rgpt_ros.geometry.stats import median

LK_WINDOW = (15, 15)
LK_LEVELS = 3
_LK_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)


@dataclass
class FlowEstimate:
    """Median displacement (dx, dy) in pixels, median scale change and the number of inlier points."""

    shift: np.ndarray
    scale: float
    inliers: int


@functools.lru_cache(maxsize=32)
def _pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of ``n`` points (read-only)."""
    i, j = np.triu_indices(n, k=1)
    i.flags.writeable = j.flags.writeable = False
    return i, j


def median_flow(prev_gray: np.ndarray, gray: np.ndarray, box: Sequence[float], reach: float,
                max_points: int = 40, shrink: float = 0.15, fb_threshold: float = 1.0,
                min_points: int = 6) -> Optional[FlowEstimate]:
    """Track features of ``box``'s inner part (``shrink`` of each side dropped, to keep background
    out) from the previous to the current frame; None when fewer than ``min_points`` survive.
    LK runs on crops reaching ``reach`` px beyond the box (OpenCV's Python API cannot share pyramids,
    so cropping keeps the cost per region small)."""
    h, w = prev_gray.shape
    cx1, cy1 = int(max(0, box[0] - reach)), int(max(0, box[1] - reach))
    cx2, cy2 = int(min(w, box[2] + reach)), int(min(h, box[3] + reach))
    if cx2 - cx1 < 8 or cy2 - cy1 < 8:
        return None
    prev_crop, crop = prev_gray[cy1:cy2, cx1:cx2], gray[cy1:cy2, cx1:cx2]
    box = (box[0] - cx1, box[1] - cy1, box[2] - cx1, box[3] - cy1)
    h, w = prev_crop.shape
    bw, bh = box[2] - box[0], box[3] - box[1]
    x1, y1 = int(max(0, box[0] + shrink * bw)), int(max(0, box[1] + shrink * bh))
    x2, y2 = int(min(w, box[2] - shrink * bw)), int(min(h, box[3] - shrink * bh))
    if x2 - x1 < 3 or y2 - y1 < 3:
        return None
    pts = cv2.goodFeaturesToTrack(prev_crop[y1:y2, x1:x2], max_points, 0.02, 3)
    if pts is None or len(pts) < min_points:
        return None
    p0 = (pts.reshape(-1, 2) + [x1, y1]).astype(np.float32)
    p1, st1, _ = cv2.calcOpticalFlowPyrLK(prev_crop, crop, p0, None, winSize=LK_WINDOW,
                                          maxLevel=LK_LEVELS, criteria=_LK_CRITERIA)
    p0b, st2, _ = cv2.calcOpticalFlowPyrLK(crop, prev_crop, p1, None, winSize=LK_WINDOW,
                                           maxLevel=LK_LEVELS, criteria=_LK_CRITERIA)
    fb = np.linalg.norm(p0 - p0b, axis=1)
    good = (st1.ravel() == 1) & (st2.ravel() == 1) & (fb < fb_threshold)
    if good.sum() >= min_points:
        good &= fb <= median(fb[good])  # keep the better half, as median flow does
    if good.sum() < min_points // 2 + 1:
        return None
    a, b = p0[good], p1[good]
    shift = median(b - a)
    i, j = _pairs(min(len(a), 20))  # scale from at most 190 point pairs
    d0 = np.linalg.norm(a[i] - a[j], axis=1)
    d1 = np.linalg.norm(b[i] - b[j], axis=1)
    ok = d0 > 2.0
    scale = float(median(d1[ok] / d0[ok])) if ok.any() else 1.0
    return FlowEstimate(shift.astype(np.float64), scale, int(good.sum()))
