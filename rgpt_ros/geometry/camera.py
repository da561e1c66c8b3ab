"""Pinhole camera intrinsics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np


@dataclass(frozen=True)
class CameraIntrinsics:
    """Pinhole intrinsics in pixels (no distortion: depth images are rectified)."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int = 0
    height: int = 0

    def __post_init__(self) -> None:
        for name in ("fx", "fy"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"camera {name} must be a positive finite number, got {value!r}")
        for name in ("cx", "cy"):
            if not np.isfinite(getattr(self, name)):
                raise ValueError(f"camera {name} must be finite")

    @classmethod
    def from_k(cls, k: Sequence[float], width: int = 0, height: int = 0) -> "CameraIntrinsics":
        """From a row-major 3x3 K (as in ``sensor_msgs/CameraInfo.k``)."""
        k = np.asarray(k, dtype=np.float64).reshape(-1)
        if k.size != 9:
            raise ValueError(f"K must have 9 entries, got {k.size}")
        if not np.any(k):
            raise ValueError("camera_info K is all zeros (uncalibrated camera)")
        return cls(fx=float(k[0]), fy=float(k[4]), cx=float(k[2]), cy=float(k[5]), width=int(width), height=int(height))

    @classmethod
    def from_dict(cls, d: Mapping[str, float]) -> "CameraIntrinsics":
        """From ``{"fx", "fy", "cx", "cy"[, "width", "height"]}`` (the bench's ``camera`` entry)."""
        missing = [key for key in ("fx", "fy", "cx", "cy") if key not in d]
        if missing:
            raise ValueError(f"camera dict lacks {missing}")
        return cls(float(d["fx"]), float(d["fy"]), float(d["cx"]), float(d["cy"]),
                   int(d.get("width", 0)), int(d.get("height", 0)))

    @classmethod
    def from_fov(cls, width: int, height: int, horizontal_fov_deg: float = 60.0) -> "CameraIntrinsics":
        """A guess for images without calibration: square pixels, centred principal point."""
        fx = 0.5 * width / np.tan(np.deg2rad(horizontal_fov_deg) / 2.0)
        return cls(fx, fx, (width - 1) / 2.0, (height - 1) / 2.0, width, height)

    def to_dict(self) -> dict[str, float]:
        return {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy,
                "width": self.width, "height": self.height}

    def k_matrix(self) -> np.ndarray:
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def scaled(self, sx: float, sy: float) -> "CameraIntrinsics":
        """Intrinsics of the image resized by (sx, sy)."""
        return CameraIntrinsics(self.fx * sx, self.fy * sy, (self.cx + 0.5) * sx - 0.5, (self.cy + 0.5) * sy - 0.5,
                                int(round(self.width * sx)), int(round(self.height * sy)))

    def check_image_size(self, width: int, height: int) -> None:
        """Raise when the intrinsics were declared for another image size."""
        if self.width and self.height and (self.width, self.height) != (width, height):
            raise ValueError(f"camera_info is for {self.width}x{self.height} but the image is {width}x{height}")

    def backproject(self, u: np.ndarray, v: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Pixels (u, v) with depth z (metres) -> (N, 3) points in the optical frame (x right, y down, z fwd)."""
        z = np.asarray(z, dtype=np.float32)
        x = (np.asarray(u, dtype=np.float32) - self.cx) * z / self.fx
        y = (np.asarray(v, dtype=np.float32) - self.cy) * z / self.fy
        return np.stack([x, y, z], axis=-1)

    def project(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) optical-frame points -> (N, 2) pixel coordinates."""
        points = np.asarray(points, dtype=np.float64)
        return np.stack([points[:, 0] * self.fx / points[:, 2] + self.cx,
                         points[:, 1] * self.fy / points[:, 2] + self.cy], axis=-1)
