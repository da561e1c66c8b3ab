"""The per-frame reward computation shared by the live reward node and offline bag annotation.

    RGBDFrame (+ regions from a tracker node, or the pipeline's own tracker)
      -> the pair's regions (tracked flags checked)
      -> robust region clouds and their distance (``rgpt_ros.geometry``, metric closest/centroid/mean_nn)
      -> shaped reward (``RewardShaper``) -> ``RewardResult``.

Anything that prevents a measurement (no depth, a lost or missing region, too few valid depth points)
gives ``valid=False`` with the reason in ``status`` and NaN numbers; the shaper's progress state is
left as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.gravity import GravityFrame, gravity_from_up
from rgpt_ros.geometry.measure import DISTANCE_METRICS, distance
from rgpt_ros.geometry.pointcloud import CloudOptions
from rgpt_ros.geometry.regions import Region, RegionError
from rgpt_ros.geometry.scene import SceneGeometry
from rgpt_ros.reward.shaping import RewardConfig, RewardShaper, ShapedReward, invalid_reward
from rgpt_ros.tracking.tracker import MultiRegionTracker, TrackerConfig


@dataclass
class RewardResult:
    """The outcome for one frame. ``status`` is "" when valid, else the reason; numbers are NaN then.
    ``centroids``: region id -> (3,) centroid in the gravity-aligned camera frame (x right, y up,
    z forward), for every region of the pair that could be measured."""

    stamp_ns: int
    valid: bool
    distance: float
    reward: float
    progress: float
    success: bool
    status: str
    metric: str
    pair: tuple[str, str]
    regions: list[Region]
    image_size: tuple[int, int]
    source: str = "geometric"
    region_source: str = "tracker"
    centroids: dict[str, np.ndarray] = field(default_factory=dict)
    confidences: dict[str, float] = field(default_factory=dict)
    gravity_from_plane: bool = False
    terms: dict[str, float] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return self.status


class RewardPipeline:
    """Tracker (optional) + geometry + shaping for a pair of regions ``(a, b)``.

    up:            a fixed gravity up-vector in the optical frame (e.g. from the robot's TF); otherwise
                   ``frame.up`` when set, else the support plane is fitted in every frame.
    track:         own a ``MultiRegionTracker``: ``reset(frame, regions)`` prompts it and ``step(frame)``
                   tracks; regions passed to ``step`` (e.g. from a tracker node) always take precedence.
    gravity_every: without ``up`` and ``frame.up``, fit the support plane on every n-th frame and reuse it
                   in between (distances do not depend on gravity; centroids do). 1 = every frame; the
                   default 10 (a third of a second at 30 Hz) saves the fit's ~10-20 ms on most frames.
    cloud_options: how region clouds are cleaned (``rgpt_ros.geometry.pointcloud.CloudOptions``).
    """

    def __init__(self, pair: Sequence[str] = ("fingertip", "cube"), config: Optional[RewardConfig] = None,
                 metric: str = "closest", *, up: Optional[Sequence[float]] = None, track: bool = True,
                 tracker_config: Optional[TrackerConfig] = None, gravity_every: int = 10,
                 cloud_options: Optional[CloudOptions] = None) -> None:
        pair = tuple(pair)
        if len(pair) != 2 or not all(isinstance(p, str) and p for p in pair) or pair[0] == pair[1]:
            raise ValueError(f"pair must be two different region ids, got {pair!r}")
        if metric not in DISTANCE_METRICS:
            raise ValueError(f"unknown distance metric {metric!r}; choose one of {DISTANCE_METRICS}")
        if int(gravity_every) < 1:
            raise ValueError(f"gravity_every must be >= 1, got {gravity_every!r}")
        self.pair: tuple[str, str] = (pair[0], pair[1])
        self.metric = metric
        self.config = config or RewardConfig()
        self.shaper = RewardShaper(self.config)
        self.gravity = gravity_from_up(np.asarray(up, dtype=np.float64)) if up is not None else None
        self.tracker = MultiRegionTracker(tracker_config) if track else None
        self.cloud_options = cloud_options or CloudOptions()
        self.gravity_every = int(gravity_every)
        self._fitted: Optional[GravityFrame] = None
        self._since_fit = 0

    def reset(self, frame: Optional[RGBDFrame] = None, regions: Optional[Sequence[Region]] = None) -> None:
        """New episode: progress restarts, the plane fit is forgotten; with ``frame`` and ``regions`` the
        tracker is (re)prompted."""
        self.shaper.reset()
        self._fitted, self._since_fit = None, 0
        if regions is not None:
            if frame is None:
                raise ValueError("reset(regions=...) needs the frame the regions were drawn on")
            self.set_regions(frame, regions)

    def set_regions(self, frame: RGBDFrame, regions: Sequence[Region]) -> None:
        """Prompt the pipeline's tracker with ``regions`` on ``frame`` (replacing earlier ones)."""
        if self.tracker is None:
            raise ValueError("this pipeline has no tracker (track=False); pass regions to step()")
        self.tracker.set_regions(frame, regions, replace_all=True)

    def prepare(self, frame: RGBDFrame) -> SceneGeometry:
        """The region-independent part of ``step``: the frame's gravity (fitted, reused or given).

        A node calls it as soon as colour and depth arrive, while the tracker still works on the image,
        and passes the result to ``step(prepared=...)``; frames must be prepared in stamp order.
        A bad ``frame.up`` is not raised here: ``step`` reports it as an invalid frame.
        """
        if frame.depth is None:
            raise ValueError("the frame has no depth image")
        geometry = SceneGeometry(frame, gravity=self._gravity_for(frame), options=self.cloud_options)
        try:
            _ = geometry.gravity  # fit (or look up) now
        except ValueError:
            return geometry
        self._remember_fit(frame, geometry)
        return geometry

    def step(self, frame: RGBDFrame, regions: Optional[Sequence[Region]] = None, *,
             prepared: Optional[SceneGeometry] = None) -> RewardResult:
        """Measure and shape one frame (``prepared``: this frame's ``prepare()`` result, if done ahead)."""
        if regions is not None:
            current, region_source = list(regions), "external"
        elif self.tracker is not None and self.tracker.ids:
            current, region_source = self.tracker.update(frame), "tracker"
        else:
            return self._result(frame, [], invalid_reward("no regions: prompt the pipeline with reset(frame, regions) "
                                                          "or pass regions to step()"), "none")
        by_id = {r.id: r for r in current}
        for rid in self.pair:
            if rid not in by_id:
                return self._result(frame, current, invalid_reward(f"region {rid!r} is missing (have {sorted(by_id)})"),
                                    region_source)
            if not by_id[rid].tracked:
                return self._result(frame, current, invalid_reward(
                    f"region {rid!r} is lost by the tracker (score {by_id[rid].score:.2f})"), region_source)
        if frame.depth is None:
            return self._result(frame, current, invalid_reward("the frame has no depth image"), region_source)
        if prepared is not None and prepared.frame is not frame:
            raise ValueError("step(prepared=...) must be the prepare() result of this frame")
        geometry = prepared or self.prepare(frame)
        try:
            from_plane = bool(geometry.gravity.from_plane)
        except ValueError as exc:  # GravityError from a bad frame.up
            return self._result(frame, current, invalid_reward(f"gravity: {exc}"), region_source)
        clouds, problems = {}, []
        for rid in self.pair:
            try:
                clouds[rid] = geometry.cloud(by_id[rid])
            except RegionError as exc:  # includes EmptyCloudError (too few valid depth points)
                problems.append(str(exc))
        extras = {"centroids": {k: c.centroid.copy() for k, c in clouds.items()},
                  "confidences": {k: float(c.confidence) for k, c in clouds.items()},
                  "gravity_from_plane": from_plane}
        if problems:
            return self._result(frame, current, invalid_reward("; ".join(problems)), region_source, **extras)
        d = distance(clouds[self.pair[0]], clouds[self.pair[1]], self.metric)
        return self._result(frame, current, self.shaper.shape(d, frame.stamp_ns), region_source, **extras)

    def _gravity_for(self, frame: RGBDFrame) -> Optional[GravityFrame]:
        """The fixed gravity, else None (frame.up or a fresh fit), else a recent plane fit to reuse."""
        if self.gravity is not None or frame.up is not None:
            return self.gravity
        if self._fitted is not None and self._since_fit < self.gravity_every:
            self._since_fit += 1
            return self._fitted
        return None

    def _remember_fit(self, frame: RGBDFrame, geometry: SceneGeometry) -> None:
        if self.gravity is None and frame.up is None and geometry.gravity is not self._fitted:
            self._fitted = geometry.gravity if geometry.gravity.from_plane else None
            self._since_fit = 1

    def _result(self, frame: RGBDFrame, regions: list[Region], shaped: ShapedReward, region_source: str,
                **extras) -> RewardResult:
        return RewardResult(stamp_ns=int(frame.stamp_ns), valid=shaped.valid, distance=shaped.distance,
                            reward=shaped.reward, progress=shaped.progress, success=shaped.success,
                            status=shaped.reason, metric=self.metric, pair=self.pair, regions=regions,
                            image_size=(frame.height, frame.width), region_source=region_source,
                            terms=dict(shaped.terms), **extras)

