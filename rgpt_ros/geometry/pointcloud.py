"""Robust per-region 3D point clouds in the gravity-aligned canonical frame."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import cv2
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from rgpt_ros.geometry.camera import CameraIntrinsics
from rgpt_ros.geometry.gravity import GravityFrame, camera_gravity
from rgpt_ros.geometry.regions import RegionError
from rgpt_ros.geometry.stats import median, percentiles


class EmptyCloudError(RegionError):
    """A region without enough valid depth to measure."""


@dataclass(frozen=True)
class CloudOptions:
    """How region clouds are cleaned.

    edge_px:         pixels removed around depth discontinuities beyond the far-side pixel of each jump
                     (flying/mixed pixels lie behind the foreground edge); < 0 disables the edge test.
    erode_px:        pixels removed at the mask border (for loose masks; bench masks are tight, so 0).
    edge_rel:        a depth jump larger than ``edge_rel * depth + edge_abs`` between neighbours is an edge.
    outlier_k:       MAD multiplier for the distance-to-median outlier test (<= 0 disables it).
    largest_cluster: keep only the largest Euclidean cluster (slower; for masks leaking onto background).
    max_points:      deterministic subsample size for measurements.
    min_points:      fewer kept points than this -> EmptyCloudError.
    """

    edge_px: int = 0
    erode_px: int = 0
    edge_rel: float = 0.04
    edge_abs: float = 0.02
    outlier_k: float = 3.0
    largest_cluster: bool = False
    max_points: int = 800
    min_points: int = 10


@dataclass
class RegionCloud:
    """A region's cleaned points in the canonical frame (x right, y up, z forward; metres).

    points:      (N, 3) float32, N <= max_points (deterministic subsample of the kept points).
    n_pixels:    mask pixels inside the image; n_valid: of those with valid depth; n_kept: after cleaning.
    aabb_min/max: robust (0.5th / 99.5th percentile) axis-aligned box, x widened by half a pixel footprint
                 on each side; centroid: mean point.
    nearest:     the point closest to the camera (smallest range).
    confidence:  0..1, valid-depth share x kept share x point-count saturation.
    """

    region_id: str
    points: np.ndarray
    n_pixels: int
    n_valid: int
    n_kept: int
    centroid: np.ndarray
    aabb_min: np.ndarray
    aabb_max: np.ndarray
    nearest: np.ndarray
    confidence: float
    _nn: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def extents(self) -> np.ndarray:
        return self.aabb_max - self.aabb_min

    @property
    def aabb_centre(self) -> np.ndarray:
        return 0.5 * (self.aabb_min + self.aabb_max)

    @property
    def width(self) -> float:
        return float(self.extents[0])

    @property
    def height(self) -> float:
        return float(self.extents[1])

    @property
    def volume(self) -> float:
        return float(np.prod(self.extents))

    @property
    def near_z(self) -> float:
        """Forward coordinate of the region's nearest surface (robust minimum of z)."""
        return float(self.aabb_min[2])


def region_cloud(depth: np.ndarray, camera: CameraIntrinsics, mask: np.ndarray,
                 gravity: Optional[GravityFrame] = None, options: CloudOptions = CloudOptions(),
                 region_id: str = "") -> RegionCloud:
    """Cleaned point cloud of the pixels in ``mask`` (boolean, image-sized) from metric ``depth`` (NaN invalid).

    Raises EmptyCloudError (a RegionError) naming the region when too few valid points remain.
    """
    if mask.shape != depth.shape:
        raise RegionError(f"region {region_id!r}: mask {mask.shape} and depth {depth.shape} differ in size")
    gravity = gravity or camera_gravity()
    if mask.dtype != bool:
        mask = mask.astype(bool)
    rows_any = np.flatnonzero(mask.any(axis=1))
    if rows_any.size == 0:
        raise EmptyCloudError(f"region {region_id!r} has no pixels")
    cols_any = np.flatnonzero(mask.any(axis=0))
    r0, r1, c0, c1 = rows_any[0], rows_any[-1] + 1, cols_any[0], cols_any[-1] + 1
    m = mask[r0:r1, c0:c1]
    d = depth[r0:r1, c0:c1]
    n_pixels = int(np.count_nonzero(m))
    valid = m & np.isfinite(d)
    n_valid = int(np.count_nonzero(valid))
    if n_valid < options.min_points:
        raise EmptyCloudError(f"region {region_id!r}: only {n_valid} of {n_pixels} pixels have valid depth "
                              f"(need {options.min_points})")
    keep = _interior(valid, m, d, options)
    if np.count_nonzero(keep) < options.min_points:
        keep = valid
    rows, cols = np.nonzero(keep)
    if len(rows) > options.max_points * 2:  # deterministic subsample before the heavier steps
        pick = subsample_indices(len(rows), options.max_points * 2)
        rows, cols = rows[pick], cols[pick]
    optical = camera.backproject(cols + c0, rows + r0, d[rows, cols])
    points = gravity.to_canonical(optical)
    points = _remove_outliers(points, options.outlier_k)
    if options.largest_cluster and len(points) > options.min_points:
        points = _largest_cluster(points)
    n_kept = int(round(len(points) / max(len(rows), 1) * np.count_nonzero(keep)))
    if len(points) > options.max_points:
        points = points[subsample_indices(len(points), options.max_points)]
    if len(points) < options.min_points:
        raise EmptyCloudError(f"region {region_id!r}: only {len(points)} points survive cleaning "
                              f"(need {options.min_points})")
    footprint = float(median(d[rows, cols])) / camera.fx
    return _summarise(region_id, np.ascontiguousarray(points, dtype=np.float32), n_pixels, n_valid, n_kept,
                      options.min_points, footprint)


def subsample_indices(n: int, k: int) -> np.ndarray:
    """``k`` sorted indices out of ``n``, deterministic: one per equal stratum at a golden-ratio jitter, so that
    sampling row-major pixels never aliases with the image rows (a plain stride can skip whole columns)."""
    if k >= n:
        return np.arange(n)
    i = np.arange(k)
    return ((i + (i * 0.6180339887498949) % 1.0) * (n / k)).astype(np.int64)


def cloud_from_points(points: np.ndarray, region_id: str = "") -> RegionCloud:
    """A RegionCloud from canonical-frame points as they are (no cleaning), e.g. from another sensor or a test."""
    points = np.ascontiguousarray(np.asarray(points, dtype=np.float32).reshape(-1, 3))
    if len(points) == 0 or not np.all(np.isfinite(points)):
        raise EmptyCloudError(f"region {region_id!r}: need at least one point, all finite")
    return _summarise(region_id, points, len(points), len(points), len(points), 1)


def _interior(valid: np.ndarray, mask: np.ndarray, depth: np.ndarray, options: CloudOptions) -> np.ndarray:
    """Valid pixels away from depth discontinuities and (optionally) from the mask border."""
    keep = valid
    if options.edge_px >= 0:
        # a pixel with a much nearer neighbour is on the far side of a depth edge: a mixed/flying pixel or
        # background seen past the object's silhouette; the near side (the true silhouette) is kept
        filled = np.where(valid, depth, np.inf).astype(np.float32)
        jump = np.zeros(depth.shape, dtype=bool)
        with np.errstate(invalid="ignore"):
            a, b = filled[:, :-1], filled[:, 1:]
            jump[:, :-1] |= a - b > options.edge_rel * b + options.edge_abs
            jump[:, 1:] |= b - a > options.edge_rel * a + options.edge_abs
            a, b = filled[:-1, :], filled[1:, :]
            jump[:-1, :] |= a - b > options.edge_rel * b + options.edge_abs
            jump[1:, :] |= b - a > options.edge_rel * a + options.edge_abs
        if options.edge_px > 0:
            jump = cv2.dilate(jump.astype(np.uint8), _square(options.edge_px)) > 0
        keep = keep & ~jump
    if options.erode_px > 0:
        e = options.erode_px
        inner = cv2.erode(np.pad(mask, e, constant_values=False).astype(np.uint8), _square(e))[e:-e, e:-e] > 0
        keep = keep & inner
    return keep


def _square(radius: int) -> np.ndarray:
    return np.ones((2 * radius + 1, 2 * radius + 1), np.uint8)


def _remove_outliers(points: np.ndarray, k: float) -> np.ndarray:
    """Drop points whose distance to the median point exceeds median + k * 1.4826 * MAD (+1 cm)."""
    if k <= 0 or len(points) < 8:
        return points
    centre = median(points)
    r = np.linalg.norm(points - centre, axis=1)
    med = median(r)
    mad = median(np.abs(r - med))
    return points[r <= med + k * 1.4826 * mad + 0.01]


def _largest_cluster(points: np.ndarray) -> np.ndarray:
    """Points of the largest connected component under a neighbour radius adapted to the sampling density."""
    tree = cKDTree(points)
    spacing = np.median(tree.query(points, k=2)[0][:, 1])
    radius = max(0.02, 4.0 * float(spacing))
    pairs = tree.query_pairs(radius, output_type="ndarray")
    n = len(points)
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return points[labels == np.argmax(np.bincount(labels))]


def _summarise(region_id: str, points: np.ndarray, n_pixels: int, n_valid: int, n_kept: int,
               min_points: int, footprint: float = 0.0) -> RegionCloud:
    """Statistics of the cleaned points. ``footprint`` (metres per pixel at the region) widens the lateral (x)
    extent by half a pixel on each side: the points are pixel centres, the surface reaches the pixel edges."""
    low, high = percentiles(points, (0.5, 99.5))
    pad = np.array([0.5 * footprint, 0.0, 0.0])
    low, high = low - pad, high + pad
    nearest = points[int(np.argmin(np.einsum("ij,ij->i", points, points)))]
    saturation = min(1.0, n_kept / (20.0 * min_points))
    confidence = (n_valid / max(n_pixels, 1)) * (n_kept / max(n_valid, 1)) * saturation
    return RegionCloud(region_id, points, n_pixels, n_valid, n_kept, points.mean(axis=0).astype(np.float64),
                       low.astype(np.float64), high.astype(np.float64), nearest.astype(np.float64),
                       float(np.clip(confidence, 0.0, 1.0)))
