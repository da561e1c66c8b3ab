"""Multi-region tracker: named boxes followed across frames with loss detection and recovery.

Per region and frame: (1) predict the box from median LK flow of features inside it (forward-backward
checked), or from its smoothed velocity when the region has too little texture; (2) correct it by
searching the region's templates (the prompt's look + an adapted one) with normalised cross-correlation
at a few scales around the prediction, its score (NCC times a colour-signature similarity when RGB is
given) is the region's confidence; (3) accept the match when the score reaches ``min_score``
(``reacquire_score`` while lost). Otherwise the region is reported with ``tracked=False`` and coasts on
its velocity while the search window grows, so it is re-acquired after a short occlusion.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Optional, Sequence, Union

import cv2
import numpy as np

from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.regions import Region, RegionError
from rgpt_ros.tracking.appearance import Appearance
from rgpt_ros.tracking.boxes import Box, box_centre, box_from_centre, box_size, clip_box
from rgpt_ros.tracking.flow import median_flow

Image = Union[RGBDFrame, np.ndarray]


@dataclass
class TrackerConfig:
    """Tracker settings (pixels and frames)."""

    min_score: float = 0.5          # NCC needed to stay tracked
    reacquire_score: float = 0.65   # NCC needed to re-acquire a lost region
    max_lost_frames: int = 60       # after this many frames lost the region stops coasting
    scales: tuple = (0.95, 1.0, 1.05)
    search_margin: float = 0.6      # search radius = margin * max(w, h) + 2 |velocity| + 4
    lost_growth: float = 0.5        # radius factor added per lost frame
    max_search_radius: float = 160.0
    template_rate: float = 0.1      # adaptive template blend rate on confident frames
    confident_score: float = 0.8    # score from which the adaptive template is updated
    velocity_smoothing: float = 0.5
    use_flow: bool = True
    max_scale_step: float = 0.05    # per-frame scale change accepted from flow
    colour_sigma: float = 0.05      # chromaticity distance scale of the colour check (0 disables it)

    def __post_init__(self) -> None:
        for name in ("min_score", "reacquire_score", "confident_score"):
            if not -1.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be an NCC value in -1..1, got {getattr(self, name)!r}")
        for name in ("template_rate", "velocity_smoothing", "max_scale_step"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be within 0..1, got {getattr(self, name)!r}")
        if self.max_lost_frames < 0:
            raise ValueError(f"max_lost_frames must be >= 0, got {self.max_lost_frames!r}")
        if not self.scales or any(not 0.5 <= s <= 2.0 for s in self.scales):
            raise ValueError(f"scales must be a non-empty list within 0.5..2, got {self.scales!r}")
        if self.colour_sigma < 0:
            raise ValueError(f"colour_sigma must be >= 0, got {self.colour_sigma!r}")
        if self.search_margin <= 0 or self.max_search_radius <= 0 or self.lost_growth < 0:
            raise ValueError("search_margin and max_search_radius must be > 0, lost_growth >= 0")

    @classmethod
    def from_dict(cls, d: dict) -> "TrackerConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown tracker option(s) {unknown}; known: {sorted(known)}")
        return cls(**{k: (tuple(v) if k == "scales" else v) for k, v in d.items()})


@dataclass
class _Track:
    region_id: str
    label: str
    box: Box
    appearance: Appearance
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))
    tracked: bool = True
    score: float = 1.0
    lost_frames: int = 0
    source: str = "prompt"
    image_size: tuple[int, int] = (0, 0)  # (width, height) for clipping the reported box

    def as_region(self) -> Region:
        """The region with its box clipped to the image (a region coasting off-image keeps its last box)."""
        box = clip_box(self.box, *self.image_size) or self.box
        return Region(id=self.region_id, box=box, label=self.label, tracked=self.tracked, score=self.score,
                      extra={"source": self.source, "lost_frames": self.lost_frames})


def _images(image: Image) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(grey uint8, RGB or None) of a frame or an array."""
    rgb = image.rgb if isinstance(image, RGBDFrame) else np.asarray(image)
    if rgb.ndim == 2:
        return rgb.astype(np.uint8, copy=False), None
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"image must be (H, W, 3) RGB or (H, W) grey, got shape {rgb.shape}")
    rgb = rgb.astype(np.uint8, copy=False)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), rgb


class MultiRegionTracker:
    """Keeps named regions (id -> box) across frames. Frames are ``RGBDFrame`` or RGB arrays."""

    def __init__(self, config: Optional[TrackerConfig] = None) -> None:
        self.config = config or TrackerConfig()
        self._tracks: dict[str, _Track] = {}
        self._prev_gray: Optional[np.ndarray] = None

    @property
    def ids(self) -> list[str]:
        return list(self._tracks)

    def set_regions(self, image: Image, regions: Sequence[Region], replace_all: bool = False) -> list[Region]:
        """(Re)initialise ``regions`` from their boxes/masks on ``image`` (the frame they were drawn on).
        Other regions keep tracking unless ``replace_all``. Raises RegionError for unusable regions."""
        gray, rgb = _images(image)
        rgb = rgb if self.config.colour_sigma > 0 else None
        h, w = gray.shape
        new = {}
        for region in regions:
            box = tuple(float(v) for v in region.bounding_box(h, w))
            if box[2] - box[0] < 3 or box[3] - box[1] < 3:
                raise RegionError(f"region {region.id!r} box {box} is too small to track (need >= 3x3 px)")
            new[region.id] = _Track(region.id, region.label, box, Appearance(gray, box, rgb), image_size=(w, h))
        if replace_all:
            self._tracks = {}
        self._tracks.update(new)
        self._prev_gray = gray
        return self.regions()

    def reset(self, ids: Optional[Sequence[str]] = None) -> None:
        """Forget the given regions (all when None)."""
        if ids is None:
            self._tracks.clear()
            return
        missing = [i for i in ids if i not in self._tracks]
        if missing:
            raise KeyError(f"unknown region id(s) {missing}; tracking {self.ids}")
        for i in ids:
            del self._tracks[i]

    def regions(self) -> list[Region]:
        """Current state of every region (``tracked`` False while lost)."""
        return [t.as_region() for t in self._tracks.values()]

    def update(self, image: Image) -> list[Region]:
        """Track every region into ``image``; returns their new states."""
        gray, rgb = _images(image)
        if self._prev_gray is not None and self._prev_gray.shape != gray.shape:
            raise ValueError(f"image size changed from {self._prev_gray.shape[::-1]} to {gray.shape[::-1]}; "
                             "re-initialise the regions")
        for track in self._tracks.values():
            self._step(track, gray, rgb)
        self._prev_gray = gray
        return self.regions()

    # -- internals ---------------------------------------------------------------------------------
    def _step(self, track: _Track, gray: np.ndarray, rgb: Optional[np.ndarray]) -> None:
        cfg = self.config
        centre, size = box_centre(track.box), box_size(track.box)
        predicted, pred_size = centre + track.velocity, size
        flow = None
        if cfg.use_flow and track.tracked and self._prev_gray is not None:
            reach = 0.5 * float(size.max()) + 2.0 * float(np.linalg.norm(track.velocity)) + 16.0
            flow = median_flow(self._prev_gray, gray, track.box, reach)
        if flow is not None:
            predicted = centre + flow.shift
            pred_size = size * float(np.clip(flow.scale, 1 - cfg.max_scale_step, 1 + cfg.max_scale_step))
        radius = cfg.search_margin * float(size.max()) + 2.0 * float(np.linalg.norm(track.velocity)) + 4.0
        if not track.tracked:
            radius *= 1.0 + cfg.lost_growth * track.lost_frames
        radius = min(radius, cfg.max_search_radius)
        match = track.appearance.search(gray, predicted, pred_size, radius, cfg.scales, prior_sigma=radius)
        h, w = gray.shape
        clipped = clip_box(match.box, w, h)
        if clipped is not None and cfg.colour_sigma > 0:
            match.score *= track.appearance.colour_similarity(rgb, clipped, cfg.colour_sigma)
        threshold = cfg.min_score if track.tracked else cfg.reacquire_score
        track.score = max(match.score, 0.0)
        if match.score >= threshold and clipped is not None:
            step = box_centre(match.box) - centre
            s = cfg.velocity_smoothing if track.tracked else 0.0
            track.velocity = s * track.velocity + (1.0 - s) * (step if track.tracked else np.zeros(2))
            track.box, track.tracked, track.lost_frames = match.box, True, 0
            track.source = "flow+template" if flow is not None else "template"
            if match.score >= cfg.confident_score and clipped == tuple(match.box):
                track.appearance.update(gray, clipped, cfg.template_rate)
            return
        track.tracked, track.lost_frames, track.source = False, track.lost_frames + 1, "coast"
        if track.lost_frames <= cfg.max_lost_frames:
            coasted = box_from_centre(centre + track.velocity, size)
            if clip_box(coasted, w, h) is not None:
                track.box = coasted
        track.velocity = 0.8 * track.velocity
