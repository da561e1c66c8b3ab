"""Appearance model of a tracked region: the prompt's template plus a slowly adapted one, searched
by normalised cross-correlation (several scales) in a window around a predicted position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import cv2
import numpy as np

from rgpt_ros.tracking.boxes import Box, box_from_centre

_MAX_TEMPLATE_SIDE = 32  # larger regions are matched downscaled: bounded cost, same answer


@dataclass
class Match:
    box: Box
    score: float


def _crop(image: np.ndarray, box: Sequence[float]) -> np.ndarray:
    h, w = image.shape[:2]
    x1, y1 = int(np.clip(round(box[0]), 0, w - 1)), int(np.clip(round(box[1]), 0, h - 1))
    x2, y2 = int(np.clip(round(box[2]), x1 + 1, w)), int(np.clip(round(box[3]), y1 + 1, h))
    return image[y1:y2, x1:x2]


def _subpixel(r: np.ndarray, i: int, j: int) -> tuple[float, float]:
    """Parabolic refinement of a score-map peak."""
    def offset(a: float, b: float, c: float) -> float:
        den = a - 2 * b + c
        return 0.0 if abs(den) < 1e-9 else float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))
    dy = offset(r[i - 1, j], r[i, j], r[i + 1, j]) if 0 < i < r.shape[0] - 1 else 0.0
    dx = offset(r[i, j - 1], r[i, j], r[i, j + 1]) if 0 < j < r.shape[1] - 1 else 0.0
    return dx, dy


def chromaticity(rgb: np.ndarray, box: Sequence[float], inner: float = 0.25) -> np.ndarray:
    """Mean (r, g) chromaticity of the box's central part (``inner`` of each side dropped):
    a shading-invariant colour signature."""
    bw, bh = box[2] - box[0], box[3] - box[1]
    core = _crop(rgb, (box[0] + inner * bw, box[1] + inner * bh, box[2] - inner * bw, box[3] - inner * bh))
    mean = np.array(cv2.mean(core)[:3])
    return mean[:2] / max(mean.sum(), 1e-6)


class Appearance:
    """Reference template (from the prompt) + adaptive template, both kept at the prompt's size, and
    the prompt's colour signature (when colour images are given)."""

    def __init__(self, gray: np.ndarray, box: Sequence[float], rgb: Optional[np.ndarray] = None) -> None:
        self.reference = _crop(gray, box).astype(np.float32)
        self.size = (self.reference.shape[1], self.reference.shape[0])
        self.adaptive = self.reference.copy()
        self.chroma = chromaticity(rgb, box) if rgb is not None else None

    def colour_similarity(self, rgb: Optional[np.ndarray], box: Sequence[float], sigma: float) -> float:
        """exp(-d^2 / 2 sigma^2) of the chromaticity distance to the prompt; 1.0 without colour."""
        if self.chroma is None or rgb is None:
            return 1.0
        d = np.linalg.norm(chromaticity(rgb, box) - self.chroma)
        return float(np.exp(-d * d / (2.0 * sigma * sigma)))

    def update(self, gray: np.ndarray, box: Sequence[float], rate: float) -> None:
        """Blend the current look of ``box`` into the adaptive template."""
        patch = cv2.resize(_crop(gray, box).astype(np.float32), self.size, interpolation=cv2.INTER_AREA)
        self.adaptive = (1.0 - rate) * self.adaptive + rate * patch

    def search(self, gray: np.ndarray, centre: Sequence[float], size: Sequence[float], radius: float,
               scales: Sequence[float], prior_sigma: float) -> Match:
        """Best match of either template at ``scales`` x ``size`` with its centre within ``radius`` px of
        ``centre``. Candidates are ranked by score x a Gaussian prior on the distance to ``centre``
        (``prior_sigma`` px) so that a look-alike further away loses; the returned score is raw NCC.

        The scale closest to 1 (the predicted size) is searched with both templates, the other scales only
        with the template that won there: 4 correlations instead of 6, the same boxes to about a pixel.
        """
        h, w = gray.shape
        best_rank, best = -np.inf, None
        templates = (self.reference, self.adaptive)
        for scale in sorted(scales, key=lambda s: abs(s - 1.0)):
            tw, th = max(3, int(round(size[0] * scale))), max(3, int(round(size[1] * scale)))
            f = max(1.0, max(tw, th) / _MAX_TEMPLATE_SIDE)
            x1 = int(np.floor(max(0, centre[0] - radius - tw / 2)))
            y1 = int(np.floor(max(0, centre[1] - radius - th / 2)))
            x2 = int(np.ceil(min(w, centre[0] + radius + tw / 2)))
            y2 = int(np.ceil(min(h, centre[1] + radius + th / 2)))
            if x2 - x1 < tw or y2 - y1 < th:
                continue
            window = gray[y1:y2, x1:x2].astype(np.float32)
            sw, sh = max(2, int(round(tw / f))), max(2, int(round(th / f)))
            if f > 1.0:
                window = cv2.resize(window, (max(sw, int(round(window.shape[1] / f))),
                                             max(sh, int(round(window.shape[0] / f)))), interpolation=cv2.INTER_AREA)
            fx, fy = (x2 - x1) / window.shape[1], (y2 - y1) / window.shape[0]
            # The distance prior of every candidate centre, shared by the templates searched at this scale.
            ex = (x1 + (np.arange(window.shape[1] - sw + 1) + sw / 2) * fx - centre[0]) ** 2
            ey = (y1 + (np.arange(window.shape[0] - sh + 1) + sh / 2) * fy - centre[1]) ** 2
            prior = np.exp(-(ey[:, None] + ex[None, :]) / (2.0 * prior_sigma ** 2))
            for template in templates:
                t = cv2.resize(template, (sw, sh), interpolation=cv2.INTER_AREA)
                r = cv2.matchTemplate(window, t, cv2.TM_CCOEFF_NORMED)
                # OpenCV bounds normed scores (flat patches give 0 or 1), so NaN is the only value to guard.
                cv2.patchNaNs(r, -1.0)
                rank = (r + 1.0) * prior
                i, j = divmod(int(np.argmax(rank)), r.shape[1])
                if rank[i, j] > best_rank:
                    best_rank, best, winner = rank[i, j], (r, i, j, x1, y1, fx, fy, tw, th), template
            if best is not None:
                templates = (winner,)
        if best is None:
            return Match(box_from_centre(centre, size), -1.0)
        r, i, j, x1, y1, fx, fy, tw, th = best
        dx, dy = _subpixel(r, i, j)
        bx, by = x1 + (j + dx) * fx, y1 + (i + dy) * fy
        return Match((bx, by, bx + tw, by + th), float(r[i, j]))
