"""Scene primitives for the ray-caster: textured planes, oriented boxes, spheres, capsules.

World frame: gravity-aligned, metres, y up (x and z horizontal, right-handed).
Every shape answers ``hit(origin, dirs)`` for rays ``origin + t * dirs`` with the ray parameter ``t``
(inf on a miss), and ``shade(origin, dirs, t)`` for hit rays only with the unit world normal ((N, 3),
or (3,) when constant) and the albedo (0..1) there.
The renderer passes directions with unit optical-z component, so ``t`` is the optical depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np

from rgpt_ros.synthetic.textures import Texture

_EPS = 1e-6


def _vec3(value: Sequence[float], name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size != 3 or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be 3 finite numbers, got {value!r}")
    return arr


def _colour(value: Sequence[float]) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size != 3 or np.any(arr < 0) or np.any(arr > 255):
        raise ValueError(f"colour must be 3 numbers in 0..255, got {value!r}")
    return arr / 255.0


def _yaw_matrix(yaw_deg: float) -> np.ndarray:
    """World-from-local rotation about +y (counter-clockwise seen from above)."""
    c, s = np.cos(np.deg2rad(yaw_deg)), np.sin(np.deg2rad(yaw_deg))
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


@dataclass(eq=False)
class Plane:
    """Infinite (or rectangular, ``half_extent`` (hs, ht) around ``point``) textured plane."""

    point: Sequence[float] = (0.0, 0.0, 0.0)
    normal: Sequence[float] = (0.0, 1.0, 0.0)
    colour: Sequence[float] = (150, 150, 150)
    texture: Optional[Texture] = None
    half_extent: Optional[tuple[float, float]] = None

    def __post_init__(self) -> None:
        self.point = _vec3(self.point, "plane point")
        n = _vec3(self.normal, "plane normal")
        if np.linalg.norm(n) < _EPS:
            raise ValueError("plane normal must be non-zero")
        self.normal = n / np.linalg.norm(n)
        self._albedo = _colour(self.colour)
        ref = np.array([1.0, 0.0, 0.0]) if abs(self.normal[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
        s_axis = ref - ref.dot(self.normal) * self.normal
        self.s_axis = s_axis / np.linalg.norm(s_axis)
        self.t_axis = np.cross(self.normal, self.s_axis)

    @classmethod
    def horizontal(cls, height: float = 0.0, **kwargs) -> "Plane":
        """A floor or table top at ``y = height`` facing up."""
        return cls(point=(0.0, height, 0.0), normal=(0.0, 1.0, 0.0), **kwargs)

    @classmethod
    def wall(cls, z: float = -3.0, **kwargs) -> "Plane":
        """A vertical back wall ``z = const`` facing +z (towards a camera looking along -z)."""
        return cls(point=(0.0, 0.0, z), normal=(0.0, 0.0, 1.0), **kwargs)

    def hit(self, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
        denom = dirs @ self.normal.astype(dirs.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.float32((self.point - origin) @ self.normal) / denom
        t[~((np.abs(denom) > _EPS) & (t > _EPS))] = np.inf
        if self.half_extent is not None:
            s, tt = self._surface_coords(origin, dirs, t)
            t[(np.abs(s) > self.half_extent[0]) | (np.abs(tt) > self.half_extent[1])] = np.inf
        return t

    def _surface_coords(self, origin: np.ndarray, dirs: np.ndarray, t: np.ndarray):
        rel = (origin - self.point).astype(dirs.dtype) + np.where(np.isfinite(t), t, 0)[:, None] * dirs
        return rel @ self.s_axis.astype(dirs.dtype), rel @ self.t_axis.astype(dirs.dtype)

    def shade(self, origin: np.ndarray, dirs: np.ndarray, t: np.ndarray):
        if self.texture is not None:
            albedo = self.texture.sample(*self._surface_coords(origin, dirs, t))
        else:
            albedo = np.broadcast_to(self._albedo, dirs.shape)
        return self.normal, albedo


@dataclass(eq=False)
class Box:
    """Oriented box: ``centre`` (world), ``size`` = (width x, height y, depth z) in its own frame,
    rotated by ``yaw_deg`` about the vertical axis."""

    centre: Sequence[float]
    size: Sequence[float]
    yaw_deg: float = 0.0
    colour: Sequence[float] = (200, 60, 40)
    texture: Optional[Texture] = None
    name: str = ""
    kind: str = field(default="box", init=False)

    def __post_init__(self) -> None:
        self.centre = _vec3(self.centre, "box centre")
        self.size = _vec3(self.size, "box size")
        if np.any(self.size <= 0):
            raise ValueError(f"box size must be positive, got {self.size.tolist()}")
        if not np.isfinite(self.yaw_deg):
            raise ValueError(f"box yaw must be finite, got {self.yaw_deg!r}")
        self._albedo = _colour(self.colour)
        self.rotation = _yaw_matrix(self.yaw_deg)  # world from local

    def corners(self) -> np.ndarray:
        """(8, 3) world corners."""
        signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)
        return self.centre + (signs * self.size / 2.0) @ self.rotation.T

    def aabb_in(self, rotation: np.ndarray, origin: np.ndarray) -> np.ndarray:
        """Exact (2, 3) [min, max] box in the frame ``p' = (p - origin) @ rotation``."""
        pts = (self.corners() - origin) @ rotation
        return np.stack([pts.min(axis=0), pts.max(axis=0)])

    def _slabs(self, origin: np.ndarray, dirs: np.ndarray):
        o = (origin - self.centre) @ self.rotation
        d = dirs @ self.rotation
        d = np.where(np.abs(d) < 1e-12, 1e-12, d)
        half = self.size / 2.0
        t1, t2 = (-half - o) / d, (half - o) / d
        return o, d, np.minimum(t1, t2), np.maximum(t1, t2)

    def hit(self, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
        _, _, near, far = self._slabs(origin, dirs)
        t_near, t_far = near.max(axis=1), far.min(axis=1)
        return np.where((t_near <= t_far) & (t_near > _EPS), t_near, np.inf)

    def shade(self, origin: np.ndarray, dirs: np.ndarray, t: np.ndarray):
        o, d, near, _ = self._slabs(origin, dirs)
        axis = near.argmax(axis=1)
        rows = np.arange(len(d))
        n_local = np.zeros_like(d)
        n_local[rows, axis] = -np.sign(d[rows, axis])
        normal = n_local @ self.rotation.T
        if self.texture is None:
            return normal, np.broadcast_to(self._albedo, d.shape)
        p = o + t[:, None] * d
        s = p[rows, (axis + 1) % 3] + 0.37 * axis
        tt = p[rows, (axis + 2) % 3] + 0.61 * (n_local[rows, axis] > 0)
        return normal, self.texture.sample(s, tt)


@dataclass(eq=False)
class Capsule:
    """Segment ``a``-``b`` swept by a sphere of ``radius`` (a = b gives a sphere)."""

    a: Sequence[float]
    b: Sequence[float]
    radius: float
    colour: Sequence[float] = (40, 200, 60)
    name: str = ""
    kind: str = field(default="capsule", init=False)

    def __post_init__(self) -> None:
        self.a, self.b = _vec3(self.a, "capsule end a"), _vec3(self.b, "capsule end b")
        if not (np.isfinite(self.radius) and self.radius > 0):
            raise ValueError(f"radius must be positive, got {self.radius!r}")
        self._albedo = _colour(self.colour)

    @property
    def centre(self) -> np.ndarray:
        return (self.a + self.b) / 2.0

    def corners(self) -> np.ndarray:
        """(8, 3) corners of the world-axis-aligned bounding box."""
        lo = np.minimum(self.a, self.b) - self.radius
        hi = np.maximum(self.a, self.b) + self.radius
        return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])

    def aabb_in(self, rotation: np.ndarray, origin: np.ndarray) -> np.ndarray:
        """Exact (2, 3) [min, max] box in the frame ``p' = (p - origin) @ rotation``."""
        ends = (np.stack([self.a, self.b]) - origin) @ rotation
        return np.stack([ends.min(axis=0) - self.radius, ends.max(axis=0) + self.radius])

    def closest_point(self, p: np.ndarray) -> np.ndarray:
        """Closest point of the axis segment to each point of (N, 3) ``p``."""
        ab = self.b - self.a
        denom = ab.dot(ab)
        u = np.zeros(len(p)) if denom < 1e-18 else np.clip((p - self.a) @ ab / denom, 0.0, 1.0)
        return self.a + u[:, None] * ab

    def hit(self, origin: np.ndarray, dirs: np.ndarray) -> np.ndarray:
        length = np.linalg.norm(dirs, axis=1)
        rd = dirs / length[:, None]
        ba, oa = self.b - self.a, origin - self.a
        baba, baoa, oaoa = ba.dot(ba), ba.dot(oa), oa.dot(oa)
        bard, rdoa = rd @ ba, rd @ oa
        r2 = self.radius ** 2
        t = np.full(len(rd), np.inf)
        if baba > 1e-18:  # cylinder body
            a = baba - bard * bard
            b = baba * rdoa - baoa * bard
            c = baba * oaoa - baoa * baoa - r2 * baba
            h = b * b - a * c
            with np.errstate(invalid="ignore", divide="ignore"):
                tb = (-b - np.sqrt(h)) / a
            y = baoa + tb * bard
            ok = (h >= 0) & (a > 1e-12) & (y > 0) & (y < baba) & (tb > _EPS)
            t = np.where(ok, tb, t)
        for centre in (self.a, self.b):  # end spheres
            oc = origin - centre
            b = rd @ oc
            h = b * b - (oc.dot(oc) - r2)
            with np.errstate(invalid="ignore"):
                ts = -b - np.sqrt(h)
            t = np.where((h >= 0) & (ts > _EPS) & (ts < t), ts, t)
        return t / length

    def shade(self, origin: np.ndarray, dirs: np.ndarray, t: np.ndarray):
        p = origin + t[:, None] * dirs
        normal = p - self.closest_point(p)
        normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-12
        return normal, np.broadcast_to(self._albedo, dirs.shape)


def Sphere(centre: Sequence[float], radius: float, colour: Sequence[float] = (40, 200, 60), name: str = "") -> Capsule:
    """A sphere (a capsule with coincident ends); ``kind`` is "sphere"."""
    shape = Capsule(centre, centre, radius, colour=colour, name=name)
    shape.kind = "sphere"
    return shape


Shape = Box | Capsule
