"""Per-frame geometry cache: one gravity estimate and one cloud per region, reused by every question."""

from __future__ import annotations

from typing import Optional

import numpy as np

from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.gravity import GravityFrame, estimate_gravity
from rgpt_ros.geometry.pointcloud import CloudOptions, EmptyCloudError, RegionCloud, region_cloud
from rgpt_ros.geometry.regions import Region


class NoDepthError(ValueError):
    """The frame has no metric depth, so nothing can be measured."""


class SceneGeometry:
    """Geometry of one RGB-D frame, computed lazily and cached.

    gravity: a fixed GravityFrame to use (e.g. from TF); otherwise ``frame.up`` if set, else estimated
             once from the depth image on first use.
    """

    def __init__(self, frame: RGBDFrame, *, gravity: Optional[GravityFrame] = None,
                 options: CloudOptions = CloudOptions(), gravity_seed: int = 0) -> None:
        if frame.depth is None:
            raise NoDepthError("the frame has no depth image; the geometric engine needs metric depth "
                               "(configure a depth estimator for RGB-only input)")
        self.frame = frame
        self.options = options
        self._gravity = gravity
        self._gravity_seed = gravity_seed
        self._clouds: dict[int, tuple[Region, RegionCloud | EmptyCloudError]] = {}

    @property
    def gravity(self) -> GravityFrame:
        if self._gravity is None:
            up = None if self.frame.up is None else np.asarray(self.frame.up, dtype=np.float64)
            self._gravity = estimate_gravity(self.frame.depth, self.frame.camera, hint_up=up, seed=self._gravity_seed)
        return self._gravity

    def cloud(self, region: Region) -> RegionCloud:
        """The region's cleaned cloud (cached per Region object). Raises RegionError/EmptyCloudError."""
        key = id(region)
        cached = self._clouds.get(key)
        if cached is None or cached[0] is not region:
            try:
                mask = region.to_mask(self.frame.height, self.frame.width)
                value: RegionCloud | EmptyCloudError = region_cloud(
                    self.frame.depth, self.frame.camera, mask, self.gravity, self.options, region.id)
            except EmptyCloudError as exc:
                value = exc
            cached = (region, value)
            self._clouds[key] = cached
        if isinstance(cached[1], EmptyCloudError):
            raise cached[1]
        return cached[1]
