"""One synchronised RGB-D observation, the unit every engine and pipeline works on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from rgpt_ros.geometry.camera import CameraIntrinsics


@dataclass
class RGBDFrame:
    """RGB image + metric depth + intrinsics at one time stamp.

    rgb:    (H, W, 3) uint8 in RGB order.
    depth:  (H, W) float32 metres, NaN where invalid; None for RGB-only input.
    camera: intrinsics of both images (depth is registered to colour).
    stamp_ns: time stamp of the colour image in nanoseconds.
    up:     optional gravity "up" unit vector in the camera optical frame
            (x right, y down, z forward), e.g. from TF or an IMU; None = estimate.
    frame_id: the optical frame's name (copied to outputs).
    """

    rgb: np.ndarray
    depth: Optional[np.ndarray]
    camera: CameraIntrinsics
    stamp_ns: int = 0
    up: Optional[np.ndarray] = None
    frame_id: str = ""

    def __post_init__(self) -> None:
        if self.rgb.ndim != 3 or self.rgb.shape[2] != 3:
            raise ValueError(f"rgb must be (H, W, 3), got {self.rgb.shape}")
        if self.depth is not None and self.depth.shape != self.rgb.shape[:2]:
            raise ValueError(f"depth {self.depth.shape} and rgb {self.rgb.shape[:2]} sizes differ "
                             "(register depth to colour first)")
        self.camera.check_image_size(self.width, self.height)

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])
