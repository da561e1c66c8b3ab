"""Procedural, seeded colour textures (wood grain, noisy checker, fractal noise) for the renderer.

A texture is an albedo image tiled over a surface: texel (i, j) covers ``texel_m`` metres, so a
1024-texel texture with 1 mm texels repeats every metre. Rich high-frequency detail gives optical
flow trackers something to hold on to.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import cv2
import numpy as np


@dataclass(frozen=True, eq=False)
class Texture:
    """Albedo image (T, T, 3) float32 in 0..1, tiled with ``texel_m`` metres per texel."""

    image: np.ndarray
    texel_m: float = 0.001

    def __post_init__(self) -> None:
        if self.image.ndim != 3 or self.image.shape[2] != 3:
            raise ValueError(f"texture image must be (T, T, 3), got {self.image.shape}")
        if not self.texel_m > 0:
            raise ValueError(f"texel_m must be > 0, got {self.texel_m!r}")

    def sample(self, s: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Albedo (N, 3) at surface coordinates (s, t) in metres (nearest texel, wrapping)."""
        h, w = self.image.shape[:2]
        i = np.floor(t / self.texel_m).astype(np.int64) % h
        j = np.floor(s / self.texel_m).astype(np.int64) % w
        return self.image[i, j]


def _fractal_noise(rng: np.random.Generator, size: int, octaves: Sequence[int]) -> np.ndarray:
    """Sum of upsampled random grids (value noise), normalised to zero mean, unit std."""
    out = np.zeros((size, size), np.float32)
    for cells in octaves:
        grid = rng.standard_normal((cells, cells)).astype(np.float32)
        grid = np.concatenate([grid, grid[:1]], axis=0)  # wrap so the tile is seamless-ish
        grid = np.concatenate([grid, grid[:, :1]], axis=1)
        up = cv2.resize(grid, (size + size // cells, size + size // cells), interpolation=cv2.INTER_CUBIC)
        out += up[:size, :size] / np.sqrt(cells)
    out -= out.mean()
    return out / (out.std() + 1e-9)


def _rgb(colour: Sequence[float]) -> np.ndarray:
    c = np.asarray(colour, np.float32).reshape(3)
    return c / 255.0 if c.max() > 1.0 else c


@lru_cache(maxsize=16)
def wood_texture(seed: int = 0, colour: tuple = (160, 110, 70), texel_m: float = 0.001, size: int = 1024,
                 ring_period_m: float = 0.03) -> Texture:
    """Wood grain: distorted rings along one axis, fibre streaks along the grain and speckle."""
    rng = np.random.default_rng(seed)
    warp = _fractal_noise(rng, size, (4, 8))
    streaks = rng.standard_normal((size, size // 32)).astype(np.float32)
    fibres = cv2.resize(streaks, (size, size), interpolation=cv2.INTER_LINEAR)
    speckle = rng.standard_normal((size, size)).astype(np.float32)
    rows = np.arange(size, dtype=np.float32)[:, None] * texel_m
    rings = 0.5 + 0.5 * np.sin(2 * np.pi * (rows / ring_period_m + 0.8 * warp))
    shade = 0.7 + 0.2 * rings + 0.08 * fibres + 0.05 * speckle
    return Texture(np.clip(shade[..., None] * _rgb(colour), 0, 1).astype(np.float32), texel_m)


@lru_cache(maxsize=16)
def checker_texture(seed: int = 0, colours: tuple = ((200, 200, 200), (90, 90, 90)), square_m: float = 0.05,
                    noise: float = 0.12, texel_m: float = 0.002, size: int = 1000) -> Texture:
    """Two-colour checkerboard with multi-scale noise on top."""
    rng = np.random.default_rng(seed)
    idx = (np.arange(size) * texel_m / square_m).astype(np.int64)
    parity = (idx[:, None] + idx[None, :]) % 2
    a, b = _rgb(colours[0]), _rgb(colours[1])
    base = np.where(parity[..., None] == 0, a, b).astype(np.float32)
    n = _fractal_noise(rng, size, (16, 64, 256)) + 0.7 * rng.standard_normal((size, size)).astype(np.float32)
    return Texture(np.clip(base * (1.0 + noise * n[..., None]), 0, 1).astype(np.float32), texel_m)


@lru_cache(maxsize=32)
def noise_texture(seed: int = 0, colour: tuple = (128, 128, 128), amplitude: float = 0.15,
                  texel_m: float = 0.001, size: int = 512) -> Texture:
    """A colour with fractal brightness noise (for walls and object faces)."""
    rng = np.random.default_rng(seed)
    n = _fractal_noise(rng, size, (8, 32, 128)) + 0.5 * rng.standard_normal((size, size)).astype(np.float32)
    return Texture(np.clip(_rgb(colour) * (1.0 + amplitude * n[..., None]), 0, 1).astype(np.float32), texel_m)
