"""The geometric engine: answers spatial questions by measuring region clouds in metric depth."""

from __future__ import annotations

import re
from typing import Optional, Sequence

import numpy as np

from rgpt_ros.engines.base import SpatialAnswer
from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry import measure
from rgpt_ros.geometry.gravity import GravityError, GravityFrame, gravity_from_tilt, gravity_from_up
from rgpt_ros.geometry.pointcloud import CloudOptions
from rgpt_ros.geometry.regions import Region, RegionError
from rgpt_ros.geometry.scene import NoDepthError, SceneGeometry
from rgpt_ros.qa.answers import answer_text, refusal_text
from rgpt_ros.qa.categories import get_category
from rgpt_ros.qa.questions import parse_question
from rgpt_ros.qa.references import ReferenceError, ResolvedQuestion

_BENCH_STYLE = re.compile(r"\bRegion\s*\[\s*\d+\s*\]|<mask>", re.IGNORECASE)


def answer_category(scene: SceneGeometry, category: str, regions: Sequence[Region],
                    names: Optional[Sequence[str]] = None, key: str = "") -> SpatialAnswer:
    """Answer ``category`` about ``regions`` (in role order: subject/origin first) without any question text.

    Used by the engine after parsing and by training-data generators. ``names`` are the display names of
    the regions in the answer (default ``Region [k]``). Raises RegionError when a region cannot be measured.
    """
    cat = get_category(category)
    if len(regions) < cat.regions or (cat.answer != "choice" and len(regions) != cat.regions):
        raise ValueError(f"{category} takes {cat.regions} region(s), got {len(regions)}")
    names = list(names) if names is not None else [f"Region [{k}]" for k in range(len(regions))]
    clouds = [scene.cloud(region) for region in regions]
    details = {"gravity_source": scene.gravity.source,
               "confidence": float(min(c.confidence for c in clouds)),
               "points": [len(c.points) for c in clouds]}
    note = ("no supporting plane or up-vector: assumed a level camera (up/down and horizontal answers may be off)"
            if scene.gravity.is_fallback else "")
    common = dict(category=category, source="geometric", details=details, message=note)
    if cat.answer == "predicate":
        yes = measure.holds(cat.relation, clouds[0], clouds[1])
        return SpatialAnswer(True, answer_text(category, names, yes=yes, key=key), yes=yes, **common)
    if cat.answer == "choice":
        scores = [measure.RELATION_SCORES[cat.relation](c) for c in clouds]
        pick = int(np.argmax(scores))
        return SpatialAnswer(True, answer_text(category, names, choice=pick, key=key), choice=regions[pick].id, **common)
    if cat.answer == "clock":
        hour = measure.clock_direction(clouds[0], clouds[1])
        return SpatialAnswer(True, answer_text(category, names, hour=hour, key=key), value=float(hour), unit="oclock",
                             **common)
    value = measure.category_length(cat.relation, clouds)
    return SpatialAnswer(True, answer_text(category, names, value=value, key=key), value=value, unit="m", **common)


class GeometricEngine:
    """SpatialEngine measuring metric depth; always available, deterministic.

    Options: ``up`` (fixed up-vector in the optical frame) or ``pitch_deg``/``roll_deg`` (camera tilt) to skip
    the plane estimate; ``erode_px``, ``outlier_k``, ``largest_cluster``, ``max_points``, ``min_points`` (see
    CloudOptions); other keywords (e.g. ``checkpoint``) are rejected with a clear error.
    """

    name = "geometric"
    needs_metric_depth = True

    def __init__(self, up: Optional[Sequence[float]] = None, pitch_deg: Optional[float] = None, roll_deg: float = 0.0,
                 **cloud_options) -> None:
        try:
            self.options = CloudOptions(**cloud_options)
        except TypeError as exc:
            raise ValueError(f"geometric engine: unknown option(s) {sorted(cloud_options)}; "
                             f"known: up, pitch_deg, roll_deg, {sorted(CloudOptions.__dataclass_fields__)}") from exc
        self.gravity: Optional[GravityFrame] = None
        if up is not None:
            self.gravity = gravity_from_up(np.asarray(up, dtype=np.float64))
        elif pitch_deg is not None:
            self.gravity = gravity_from_tilt(pitch_deg, roll_deg)
        self._scene: Optional[SceneGeometry] = None

    def scene(self, frame: RGBDFrame) -> SceneGeometry:
        """The cached geometry of ``frame`` (rebuilt when a different frame object arrives)."""
        if self._scene is None or self._scene.frame is not frame:
            self._scene = SceneGeometry(frame, gravity=self.gravity, options=self.options)
        return self._scene

    def answer(self, frame: RGBDFrame, regions: Sequence[Region], question: str) -> SpatialAnswer:
        try:
            parsed = parse_question(question, regions)
        except ReferenceError as exc:
            return _refuse(str(exc))
        if parsed is None:
            return _refuse("the question is not one of the spatial questions this engine understands "
                           "(relations, distances, sizes, directions between named regions)")
        try:
            scene = self.scene(frame)
            chosen = [regions[i] for i in parsed.roles]
            names = _display_names(parsed.resolved, regions, parsed.roles)
            return answer_category(scene, parsed.category, chosen, names, key=question)
        except (NoDepthError, GravityError) as exc:
            return _refuse(str(exc), parsed.category)
        except RegionError as exc:
            return _refuse(f"cannot measure a region: {exc}", parsed.category)

    def answer_many(self, frame: RGBDFrame, regions: Sequence[Region], questions: Sequence[str]) -> list[SpatialAnswer]:
        return [self.answer(frame, regions, q) for q in questions]


def _display_names(resolved: ResolvedQuestion, regions: Sequence[Region], roles: Sequence[int]) -> list[str]:
    """``Region [i]`` (i = index in the region list, as the bench and <mask> order mean it) when the question
    used that style or a region's id is a bare number; otherwise the user's own region ids."""
    bench_style = bool(_BENCH_STYLE.search(resolved.original))
    return [f"Region [{i}]" if bench_style or regions[i].id.isdigit() else regions[i].id for i in roles]


def _refuse(reason: str, category: Optional[str] = None) -> SpatialAnswer:
    return SpatialAnswer(False, refusal_text(reason), category=category, message=reason, source="geometric")
