"""Measurements and qualitative relations between region clouds (canonical frame: x right, y up, z forward)."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from rgpt_ros.geometry.pointcloud import RegionCloud, subsample_indices

DISTANCE_METRICS = ("closest", "centroid", "mean_nn")
MAX_QUERY_POINTS = 400  # nearest-neighbour queries use a deterministic subsample of each cloud (trees keep all)


def _query_points(cloud: RegionCloud) -> np.ndarray:
    points = cloud.points
    if len(points) <= MAX_QUERY_POINTS:
        return points
    return points[subsample_indices(len(points), MAX_QUERY_POINTS)]


def nearest_neighbour_distances(a: RegionCloud, b: RegionCloud) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-neighbour distances from (a subsample of) a's points to b, and from b's to a (KD-trees; cached per pair)."""
    cached = a._nn.get(id(b))
    if cached is None or cached[0] is not b:
        cached = (b, b.tree.query(_query_points(a), k=1)[0], a.tree.query(_query_points(b), k=1)[0])
        a._nn[id(b)] = cached
    return cached[1], cached[2]


def distance(a: RegionCloud, b: RegionCloud, metric: str = "closest", closest_fraction: float = 0.02) -> float:
    """Distance in metres between two regions.

    closest:  closest-surface gap, robust to noise: the mean of the smallest ``closest_fraction`` (at
              least 3) of both directed nearest-neighbour distance sets (0 for touching surfaces).
              Averaging several near points, rather than taking one order statistic, halves the
              frame-to-frame jitter of a single noisy pixel near contact.
    centroid: distance between the centroids.
    mean_nn:  the reference pipeline's distance: mean of all directed nearest-neighbour distances
              of both clouds (SpatialRGPT-Bench ``distance_data``).
    """
    if metric == "centroid":
        return float(np.linalg.norm(a.centroid - b.centroid))
    if metric not in DISTANCE_METRICS:
        raise ValueError(f"unknown distance metric {metric!r}; choose one of {DISTANCE_METRICS}")
    ab, ba = nearest_neighbour_distances(a, b)
    both = np.concatenate([ab, ba])
    if metric == "closest":
        k = min(len(both), max(3, int(closest_fraction * len(both))))
        return float(np.partition(both, k - 1)[:k].mean())
    return float(both.mean())


def category_length(relation: str, clouds: Sequence[RegionCloud]) -> float:
    """The length a quantitative bench category asks for (``distance`` is the reference mean-NN distance)."""
    if relation == "distance":
        return distance(clouds[0], clouds[1], "mean_nn")
    if relation == "horizontal_distance":
        return horizontal_distance(clouds[0], clouds[1])
    if relation == "vertical_distance":
        return vertical_distance(clouds[0], clouds[1])
    if relation == "width":
        return width(clouds[0])
    if relation == "height":
        return height(clouds[0])
    raise ValueError(f"{relation!r} is not a length category")


def horizontal_distance(a: RegionCloud, b: RegionCloud) -> float:
    """|dx| between the AABB centres (lateral, the viewer's left/right)."""
    return float(abs(a.aabb_centre[0] - b.aabb_centre[0]))


def vertical_distance(a: RegionCloud, b: RegionCloud) -> float:
    """|dy| between the AABB centres (along gravity)."""
    return float(abs(a.aabb_centre[1] - b.aabb_centre[1]))


def width(a: RegionCloud) -> float:
    return a.width


def height(a: RegionCloud) -> float:
    return a.height


def volume(a: RegionCloud) -> float:
    return a.volume


def clock_direction(origin: RegionCloud, target: RegionCloud) -> int:
    """Clock hour (1..12) of ``target`` seen from ``origin``: 12 straight ahead, 3 right, 9 left."""
    return clock_hour(target.centroid - origin.centroid)


def clock_hour(vector: np.ndarray) -> int:
    """Clock hour of a canonical-frame vector's x-z direction (clockwise from +z)."""
    angle = np.degrees(np.arctan2(vector[0], vector[2])) % 360.0
    hour = int(np.round(angle / 30.0)) % 12
    return 12 if hour == 0 else hour


# Relation name -> score; "a <relation> b" holds when score(a) > score(b).
RELATION_SCORES: dict[str, Callable[[RegionCloud], float]] = {
    "left": lambda c: -float(c.centroid[0]),
    "right": lambda c: float(c.centroid[0]),
    "above": lambda c: float(c.centroid[1]),
    "below": lambda c: -float(c.centroid[1]),
    "behind": lambda c: c.near_z,
    "front": lambda c: -c.near_z,
    "tall": lambda c: c.height,
    "short": lambda c: -c.height,
    "wide": lambda c: c.width,
    "thin": lambda c: -c.width,
    "big": lambda c: c.volume,
    "small": lambda c: -c.volume,
}


def holds(relation: str, a: RegionCloud, b: RegionCloud) -> bool:
    """Whether ``a`` is <relation> ``b`` (e.g. holds("left", a, b): a is left of b)."""
    try:
        score = RELATION_SCORES[relation]
    except KeyError:
        raise ValueError(f"unknown relation {relation!r}; choose one of {sorted(RELATION_SCORES)}") from None
    return score(a) > score(b)


def choose(relation: str, a: RegionCloud, b: RegionCloud) -> int:
    """0 when ``a`` is the more <relation> of the two (e.g. more to the left), else 1."""
    return 0 if holds(relation, a, b) else 1


def relations(a: RegionCloud, b: RegionCloud) -> dict[str, bool]:
    """Every qualitative relation of a with respect to b."""
    return {name: score(a) > score(b) for name, score in RELATION_SCORES.items()}
