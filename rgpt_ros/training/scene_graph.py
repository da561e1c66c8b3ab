"""Per-frame 3D scene graph from the geometric engine: region clouds (nodes) and which questions are well posed.

Answers always come from ``rgpt_ros.engines.geometric.answer_category`` (the geometric engine); this module only
decides which (category, regions) cases are clear enough to teach: qualitative relations need a margin,
lengths a minimum size, directions a horizontal offset away from a clock-hour boundary.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from rgpt_ros.engines.base import SpatialAnswer
from rgpt_ros.engines.geometric import answer_category
from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry import measure
from rgpt_ros.geometry.gravity import GravityFrame
from rgpt_ros.geometry.pointcloud import CloudOptions, RegionCloud
from rgpt_ros.geometry.regions import Region, RegionError
from rgpt_ros.geometry.scene import SceneGeometry
from rgpt_ros.qa.categories import get_category

_POSITION = ("left", "right", "above", "below", "behind", "front")
_EXTENT = ("tall", "short", "wide", "thin")


@dataclass(frozen=True)
class Margins:
    """How clear a case must be to become a training question (metres unless noted).

    position_m: centroid / nearest-point gap for left/right/above/below/behind/front.
    extent_m, extent_rel: size gap for tall/short/wide/thin: > max(extent_m, extent_rel * smaller size).
    volume_ratio: big/small need volume ratio above this.
    min_length_m: smallest distance/size asked about.
    direction_min_m: smallest horizontal offset for a clock direction.
    direction_boundary_deg: skip directions within this angle of a half-hour boundary.
    """

    position_m: float = 0.05
    extent_m: float = 0.03
    extent_rel: float = 0.15
    volume_ratio: float = 1.3
    min_length_m: float = 0.05
    direction_min_m: float = 0.15
    direction_boundary_deg: float = 5.0


@dataclass
class RegionNode:
    """One region of the frame with its cleaned cloud (canonical frame)."""

    index: int
    region: Region
    cloud: RegionCloud

    def to_dict(self) -> dict:
        c = self.cloud
        return {"id": self.region.id, "centroid": [round(float(v), 4) for v in c.centroid],
                "aabb_min": [round(float(v), 4) for v in c.aabb_min],
                "aabb_max": [round(float(v), 4) for v in c.aabb_max],
                "points": int(len(c.points)), "confidence": round(float(c.confidence), 3)}


class SceneGraph:
    """Nodes = measurable regions of one frame; edges = the relations/measurements the engine computes on demand."""

    def __init__(self, frame: RGBDFrame, regions: Sequence[Region], *, gravity: Optional[GravityFrame] = None,
                 options: CloudOptions = CloudOptions(), margins: Margins = Margins()) -> None:
        self.scene = SceneGeometry(frame, gravity=gravity, options=options)
        self.margins = margins
        self.nodes: list[RegionNode] = []
        self.skipped: dict[str, str] = {}
        for i, region in enumerate(regions):
            try:
                self.nodes.append(RegionNode(i, region, self.scene.cloud(region)))
            except RegionError as exc:  # EmptyCloudError is a RegionError
                self.skipped[region.id] = str(exc)

    def __len__(self) -> int:
        return len(self.nodes)

    def to_dict(self) -> dict:
        return {"gravity_source": self.scene.gravity.source if self.nodes else None,
                "nodes": [n.to_dict() for n in self.nodes], "skipped": dict(self.skipped)}

    # ------------------------------------------------------------------ well-posed cases
    def well_posed(self, category: str, roles: Sequence[RegionNode]) -> bool:
        """Whether ``category`` about ``roles`` (role order) has a clear answer."""
        cat = get_category(category)
        m = self.margins
        clouds = [n.cloud for n in roles]
        if cat.answer in ("predicate", "choice"):
            score = measure.RELATION_SCORES[cat.relation]
            a, b = score(clouds[0]), score(clouds[1])
            if cat.relation in _POSITION:
                return abs(a - b) > m.position_m
            if cat.relation in _EXTENT:
                return abs(a - b) > max(m.extent_m, m.extent_rel * min(abs(a), abs(b)))
            small, large = sorted((abs(a), abs(b)))
            return large > m.volume_ratio * small and large > 0
        if cat.answer == "clock":
            vector = clouds[1].centroid - clouds[0].centroid
            if float(np.hypot(vector[0], vector[2])) < m.direction_min_m:
                return False
            hours = (np.degrees(np.arctan2(vector[0], vector[2])) % 360.0) / 30.0
            return abs(hours - np.floor(hours) - 0.5) * 30.0 > m.direction_boundary_deg
        value = measure.category_length(cat.relation, clouds)
        return value >= m.min_length_m

    def cases(self, category: str) -> list[tuple[RegionNode, ...]]:
        """Every well-posed role tuple for ``category`` (ordered pairs, or single regions for sizes)."""
        n_roles = get_category(category).regions
        tuples = itertools.permutations(self.nodes, n_roles)
        return [t for t in tuples if self.well_posed(category, t)]

    def answer(self, category: str, roles: Sequence[RegionNode], names: Sequence[str], key: str) -> SpatialAnswer:
        """The geometric engine's answer (text naming ``names`` in role order, plus yes/choice/value)."""
        return answer_category(self.scene, category, [n.region for n in roles], names, key=key)
