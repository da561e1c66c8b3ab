"""Reward shaping from a distance signal d[t] (metres).

    reward = - distance_weight * d
             + kernel_weight * exp(-d / kernel_scale)
             + progress_weight * (d[t-1] - d[t])          (potential-based progress)
             + success_bonus * [d < success_threshold]

``progress`` is measured against the last *valid* distance, so invalid frames never corrupt it; after a
gap longer than ``progress_max_gap_s`` (or after ``reset``) progress restarts at 0. Distances above
``max_distance`` (when > 0) are clipped before shaping. An invalid frame gets ``valid=False``, a reason
and NaN numbers, never a made-up value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any, Mapping, Optional


def _opt(default: float, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class RewardConfig:
    """Weights and thresholds of the shaped reward (all plain numbers, so they map onto ROS parameters)."""

    distance_weight: float = _opt(1.0, "Weight w of the -w*d term (per metre).")
    kernel_weight: float = _opt(0.0, "Weight of the exp(-d/kernel_scale) term.")
    kernel_scale: float = _opt(0.05, "Length scale of the exponential kernel in metres (> 0).")
    progress_weight: float = _opt(0.0, "Weight of the progress term d[t-1]-d[t] (per metre).")
    success_threshold: float = _opt(0.02, "Distance in metres below which the frame counts as success.")
    success_bonus: float = _opt(0.0, "Reward added on success frames.")
    max_distance: float = _opt(0.0, "Distances above this many metres are clipped before shaping (0 = no clip).")
    progress_max_gap_s: float = _opt(1.0, "Longest gap in seconds between valid frames that still yields "
                                          "progress (0 = no limit).")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"reward option {f.name} must be a finite number, got {value!r}")
            object.__setattr__(self, f.name, float(value))
        if self.kernel_scale <= 0:
            raise ValueError(f"reward option kernel_scale must be > 0 metres, got {self.kernel_scale!r}")
        for name in ("success_threshold", "max_distance", "progress_max_gap_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"reward option {name} must be >= 0, got {getattr(self, name)!r}")
        if self.max_distance and self.max_distance <= self.success_threshold:
            raise ValueError(f"reward option max_distance ({self.max_distance}) must exceed success_threshold "
                             f"({self.success_threshold}) or be 0")

    @classmethod
    def from_dict(cls, d: Optional[Mapping[str, Any]]) -> "RewardConfig":
        """From a mapping (YAML / ROS parameters); unknown keys are an error naming the known ones."""
        d = dict(d or {})
        known = [f.name for f in fields(cls)]
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ValueError(f"unknown reward option(s) {unknown}; known options: {known}")
        return cls(**d)

    def to_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class ShapedReward:
    """One shaped frame. ``terms`` holds each weighted term; NaN numbers when ``valid`` is False."""

    valid: bool
    distance: float
    reward: float
    progress: float
    success: bool
    reason: str = ""
    terms: Mapping[str, float] = field(default_factory=dict)


def invalid_reward(reason: str) -> ShapedReward:
    return ShapedReward(False, math.nan, math.nan, math.nan, False, reason)


class RewardShaper:
    """Stateful shaper: keeps the last valid distance and its stamp for the progress term."""

    def __init__(self, config: Optional[RewardConfig] = None) -> None:
        self.config = config or RewardConfig()
        self.reset()

    def reset(self) -> None:
        """Start a new episode: the next valid frame has progress 0."""
        self._last_distance: Optional[float] = None
        self._last_stamp_ns: Optional[int] = None

    def shape(self, distance: float, stamp_ns: Optional[int] = None) -> ShapedReward:
        """Shape one measured distance; a NaN/inf/negative distance gives an invalid result and leaves the
        progress state untouched."""
        try:
            d = float(distance)
        except (TypeError, ValueError):
            return invalid_reward(f"distance {distance!r} is not a number")
        if not math.isfinite(d) or d < 0:
            return invalid_reward(f"distance {d!r} is not a finite non-negative number")
        cfg = self.config
        if cfg.max_distance:
            d = min(d, cfg.max_distance)
        progress = 0.0
        if self._last_distance is not None:
            gap_ok = (not cfg.progress_max_gap_s or stamp_ns is None or self._last_stamp_ns is None
                      or 0 <= stamp_ns - self._last_stamp_ns <= cfg.progress_max_gap_s * 1e9)
            progress = self._last_distance - d if gap_ok else 0.0
        success = d < cfg.success_threshold
        terms = {"distance": -cfg.distance_weight * d,
                 "kernel": cfg.kernel_weight * math.exp(-d / cfg.kernel_scale),
                 "progress": cfg.progress_weight * progress,
                 "success": cfg.success_bonus if success else 0.0}
        self._last_distance, self._last_stamp_ns = d, stamp_ns
        return ShapedReward(True, d, float(sum(terms.values())), progress, success, "", terms)
