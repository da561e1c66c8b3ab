"""Gravity-aligned canonical frame: x right, y up (against gravity), z forward (horizontal).

The frame is centred at the camera. "Up" comes from, in order: a given up-vector (TF/IMU), a given
camera tilt, the dominant supporting plane (floor/table) fitted by RANSAC in the depth cloud, or, when
no plane is found, the camera's own -y axis (flagged with ``source == "camera"``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from rgpt_ros.geometry.camera import CameraIntrinsics

_CAMERA_UP = np.array([0.0, -1.0, 0.0])  # optical frame: y points down


class GravityError(ValueError):
    """An up-vector or tilt that cannot define a frame."""


@dataclass(frozen=True)
class GravityFrame:
    """Camera optical frame -> canonical frame (x right, y up, z forward horizontal).

    matrix:  (3, 3); rows are the canonical x, y, z axes in optical coordinates, so
             ``canonical = matrix @ optical``. (right, up, forward) is left-handed, so det = -1.
    source:  "given" (up-vector), "tilt", "plane" (estimated from depth) or "camera" (fallback: level camera).
    plane_offset: for source "plane", the camera height above the plane in metres (plane: up . p = -offset).
    inlier_fraction: share of the sampled depth points on the plane (0 when not from a plane).
    """

    matrix: np.ndarray
    source: str
    plane_offset: Optional[float] = None
    inlier_fraction: float = 0.0

    @property
    def rotation(self) -> np.ndarray:
        """Alias of ``matrix``: optical -> canonical, orthonormal (det -1: the canonical axes are left-handed)."""
        return self.matrix

    @property
    def up(self) -> np.ndarray:
        """Unit up-vector in the optical frame."""
        return self.matrix[1]

    @property
    def from_plane(self) -> bool:
        return self.source == "plane"

    @property
    def is_fallback(self) -> bool:
        """True when no gravity information was available and the camera frame was assumed level."""
        return self.source == "camera"

    @property
    def pitch_deg(self) -> float:
        """Downward pitch of the optical axis below the horizon, in degrees."""
        return float(np.degrees(np.arcsin(np.clip(-self.up[2], -1.0, 1.0))))

    def to_canonical(self, points: np.ndarray) -> np.ndarray:
        """(N, 3) optical-frame points -> (N, 3) canonical points (same dtype as the input)."""
        points = np.asarray(points)
        return points @ self.matrix.T.astype(points.dtype, copy=False)


def gravity_from_up(up: np.ndarray, source: str = "given", plane_offset: Optional[float] = None,
                    inlier_fraction: float = 0.0) -> GravityFrame:
    """Frame from an up-vector given in the optical frame (need not be normalised)."""
    up = np.asarray(up, dtype=np.float64).reshape(-1)
    if up.shape != (3,) or not np.all(np.isfinite(up)) or np.linalg.norm(up) < 1e-9:
        raise GravityError(f"up-vector must be 3 finite numbers, not all zero; got {up.tolist()}")
    up = up / np.linalg.norm(up)
    forward = np.array([0.0, 0.0, 1.0]) - up[2] * up  # optical axis projected on the horizontal plane
    if np.linalg.norm(forward) < 1e-3:  # looking straight up or down: image top is "forward"
        top = np.array([0.0, -1.0, 0.0]) * np.sign(-up[2])
        forward = top - np.dot(top, up) * up
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    return GravityFrame(np.stack([right, up, forward]), source, plane_offset, inlier_fraction)


def gravity_from_tilt(pitch_deg: float, roll_deg: float = 0.0) -> GravityFrame:
    """Frame from the camera tilt: pitch = degrees the optical axis points below the horizon,
    roll = rotation about the optical axis (positive turns the image x axis towards image down, as
    ``rgpt_ros.synthetic.CameraPose``)."""
    if not (np.isfinite(pitch_deg) and np.isfinite(roll_deg)) or abs(pitch_deg) > 90:
        raise GravityError(f"pitch must be within [-90, 90] degrees and roll finite; got {pitch_deg!r}, {roll_deg!r}")
    p, r = np.radians(pitch_deg), -np.radians(roll_deg)
    up_level_roll = np.array([0.0, -np.cos(p), -np.sin(p)])
    rot_z = np.array([[np.cos(r), -np.sin(r), 0.0], [np.sin(r), np.cos(r), 0.0], [0.0, 0.0, 1.0]])
    return gravity_from_up(rot_z @ up_level_roll, source="tilt")


def camera_gravity() -> GravityFrame:
    """Fallback: the camera is assumed level (optical -y is up)."""
    return gravity_from_up(_CAMERA_UP, source="camera")


def sample_depth_points(depth: np.ndarray, camera: CameraIntrinsics, target: int = 4000) -> np.ndarray:
    """A regular-grid subsample of the valid depth pixels as (N, 3) optical-frame points."""
    h, w = depth.shape
    stride = max(1, int(np.sqrt(h * w / float(target))))
    sub = depth[stride // 2::stride, stride // 2::stride]
    rows, cols = np.nonzero(np.isfinite(sub))
    z = sub[rows, cols]
    return camera.backproject(cols * stride + stride // 2, rows * stride + stride // 2, z)


def estimate_gravity(depth: Optional[np.ndarray], camera: CameraIntrinsics, hint_up: Optional[np.ndarray] = None, *,
                     iterations: int = 160, max_tilt_deg: float = 65.0, min_inlier_fraction: float = 0.12,
                     sample_points: int = 4000, seed: int = 0) -> GravityFrame:
    """Gravity frame for one depth image.

    hint_up: an up-vector in the optical frame (TF/IMU); used as is when given.
    Otherwise RANSAC fits planes to a subsampled cloud, keeping only planes below the camera whose normal
    is within ``max_tilt_deg`` of the level camera's up (so walls and box sides are never chosen), and
    takes the one with most inliers (floor or table), refined by least squares. The inlier threshold grows
    with depth like sensor noise. Falls back to the camera frame (``source == "camera"``) when no plane
    holds at least ``min_inlier_fraction`` of the points. Deterministic for a given seed.
    """
    if hint_up is not None:
        return gravity_from_up(hint_up, source="given")
    if depth is None:
        return camera_gravity()
    points = sample_depth_points(depth, camera, sample_points).astype(np.float64)
    if len(points) < 30:
        return camera_gravity()
    tolerance = 0.01 + 0.012 * points[:, 2]
    best = _ransac_plane(points, tolerance, iterations, np.cos(np.radians(max_tilt_deg)), seed)
    if best is None:
        return camera_gravity()
    normal, offset = best
    for _ in range(2):  # least-squares refinement on the inliers
        inliers = np.abs(points @ normal + offset) < tolerance
        if inliers.sum() < 3:
            return camera_gravity()
        normal, offset = _fit_plane(points[inliers])
    fraction = float(inliers.mean())
    if fraction < min_inlier_fraction or offset <= 0.0 or -normal[1] < np.cos(np.radians(max_tilt_deg)):
        return camera_gravity()
    return gravity_from_up(normal, source="plane", plane_offset=float(offset), inlier_fraction=fraction)


def _ransac_plane(points: np.ndarray, tolerance: np.ndarray, iterations: int, min_cos_up: float,
                  seed: int) -> Optional[tuple[np.ndarray, float]]:
    """Best admissible plane (normal towards the camera, camera above it, near-level normal) or None."""
    rng = np.random.default_rng(seed)
    triples = points[rng.integers(0, len(points), size=(iterations, 3))]
    normals = np.cross(triples[:, 1] - triples[:, 0], triples[:, 2] - triples[:, 0])
    norms = np.linalg.norm(normals, axis=1)
    ok = norms > 1e-9
    normals, triples = normals[ok] / norms[ok, None], triples[ok]
    offsets = -np.einsum("ij,ij->i", normals, triples[:, 0])
    flip = offsets < 0  # orient so the camera (origin) is on the positive side
    normals[flip] *= -1
    offsets[flip] *= -1
    admissible = (-normals[:, 1] >= min_cos_up) & (offsets > 0.05)
    if not admissible.any():
        return None
    normals, offsets = normals[admissible], offsets[admissible]
    score_idx = rng.choice(len(points), size=min(len(points), 1500), replace=False) if len(points) > 1500 else slice(None)
    scored, tol = points[score_idx], tolerance[score_idx]  # hypotheses are ranked on a subset, refined on all
    counts = (np.abs(normals @ scored.T + offsets[:, None]) < tol[None, :]).sum(axis=1)
    k = int(np.argmax(counts))
    return normals[k], float(offsets[k])


def _fit_plane(points: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares plane (unit normal towards the origin side, offset >= 0 when possible)."""
    centre = points.mean(axis=0)
    _, _, vt = np.linalg.svd(points - centre, full_matrices=False)
    normal = vt[2]
    offset = -float(normal @ centre)
    if offset < 0:
        normal, offset = -normal, -offset
    return normal, offset
