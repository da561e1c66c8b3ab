"""Image regions of any shape (box, binary mask, COCO RLE, polygon) rasterised to masks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Sequence

import cv2
import numpy as np


class RegionError(ValueError):
    """A region that cannot be used: empty, outside the image, malformed."""


@dataclass
class Region:
    """A named image region. Exactly one of box / mask / rle / polygon is set.

    id:      user-facing name ("fingertip", "cube", or "0", "1", ... for bench regions).
    box:     (x1, y1, x2, y2) absolute pixels, x2/y2 exclusive edges as in the bench.
    mask:    (H, W) boolean/0-1 array at image size.
    rle:     COCO RLE dict {"size": [h, w], "counts": str|list}.
    polygon: list of flat [x0, y0, x1, y1, ...] rings in pixels.
    """

    id: str
    box: Optional[Sequence[float]] = None
    mask: Optional[np.ndarray] = None
    rle: Optional[dict] = None
    polygon: Optional[list] = None
    label: str = ""
    tracked: bool = True
    score: float = 1.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        given = [name for name in ("box", "mask", "rle", "polygon") if getattr(self, name) is not None]
        if len(given) != 1:
            raise RegionError(f"region {self.id!r} needs exactly one of box/mask/rle/polygon, got {given or 'none'}")
        if self.box is not None:
            if len(self.box) != 4 or not all(np.isfinite(v) for v in self.box):
                raise RegionError(f"region {self.id!r}: box must be 4 finite numbers, got {self.box!r}")
            x1, y1, x2, y2 = (float(v) for v in self.box)
            if x2 <= x1 or y2 <= y1:
                raise RegionError(f"region {self.id!r}: box {self.box!r} is empty (need x2 > x1 and y2 > y1)")
            self.box = (x1, y1, x2, y2)

    @property
    def kind(self) -> str:
        for name in ("box", "mask", "rle", "polygon"):
            if getattr(self, name) is not None:
                return name
        raise AssertionError("unreachable")

    def to_mask(self, height: int, width: int, *, allow_empty: bool = False) -> np.ndarray:
        """Boolean (height, width) mask clipped to the image.

        Raises RegionError for an empty region or one entirely outside the image.
        """
        mask = self._rasterise(height, width)
        if not allow_empty and not mask.any():
            raise RegionError(f"region {self.id!r} ({self.kind}) has no pixels inside the {width}x{height} image")
        return mask

    def bounding_box(self, height: int, width: int) -> tuple[int, int, int, int]:
        """Tight (x1, y1, x2, y2) pixel box of the clipped mask (x2/y2 exclusive)."""
        if self.box is not None:
            x1, y1, x2, y2 = self.box
            bx = (max(0, int(np.floor(x1))), max(0, int(np.floor(y1))),
                  min(width, int(np.ceil(x2))), min(height, int(np.ceil(y2))))
            if bx[2] <= bx[0] or bx[3] <= bx[1]:
                raise RegionError(f"region {self.id!r}: box {self.box!r} is outside the {width}x{height} image")
            return bx
        mask = self.to_mask(height, width)
        ys, xs = np.nonzero(mask)
        return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1

    def _rasterise(self, height: int, width: int) -> np.ndarray:
        if self.box is not None:
            out = np.zeros((height, width), dtype=bool)
            x1, y1, x2, y2 = self.box
            c1, r1 = max(0, int(np.floor(x1))), max(0, int(np.floor(y1)))
            c2, r2 = min(width, int(np.ceil(x2))), min(height, int(np.ceil(y2)))
            if c2 > c1 and r2 > r1:
                out[r1:r2, c1:c2] = True
            return out
        if self.mask is not None:
            mask = np.asarray(self.mask)
            if mask.ndim != 2:
                raise RegionError(f"region {self.id!r}: mask must be 2-D, got shape {mask.shape}")
            if mask.shape != (height, width):
                raise RegionError(f"region {self.id!r}: mask is {mask.shape[1]}x{mask.shape[0]} "
                                  f"but the image is {width}x{height}")
            return mask.astype(bool)
        if self.rle is not None:
            return self._decode_rle(height, width)
        return self._fill_polygon(height, width)

    def _decode_rle(self, height: int, width: int) -> np.ndarray:
        from pycocotools import mask as mask_utils

        rle = dict(self.rle)
        if "size" not in rle or "counts" not in rle:
            raise RegionError(f"region {self.id!r}: RLE needs 'size' and 'counts'")
        h, w = (int(v) for v in rle["size"])
        if (h, w) != (height, width):
            raise RegionError(f"region {self.id!r}: RLE is {w}x{h} but the image is {width}x{height}")
        if isinstance(rle["counts"], list):
            rle = mask_utils.frPyObjects(rle, h, w)
        elif isinstance(rle["counts"], str):
            rle["counts"] = rle["counts"].encode("ascii")
        try:
            return mask_utils.decode(rle).astype(bool)
        except Exception as exc:  # pycocotools raises plain Exceptions on garbage
            raise RegionError(f"region {self.id!r}: cannot decode RLE: {exc}") from exc

    def _fill_polygon(self, height: int, width: int) -> np.ndarray:
        rings = self.polygon
        if rings and not isinstance(rings[0], (list, tuple, np.ndarray)):
            rings = [rings]
        out = np.zeros((height, width), dtype=np.uint8)
        pts = []
        for ring in rings:
            arr = np.asarray(ring, dtype=np.float64).reshape(-1, 2)
            if len(arr) < 3 or not np.all(np.isfinite(arr)):
                raise RegionError(f"region {self.id!r}: polygon rings need >= 3 finite points")
            pts.append(np.round(arr).astype(np.int32))
        cv2.fillPoly(out, pts, 1)
        return out.astype(bool)


def mask_to_rle(mask: np.ndarray) -> dict:
    """Boolean mask -> COCO RLE with string counts (the bench's format)."""
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def parse_box_spec(spec: str) -> Region:
    """``"name:x1,y1,x2,y2"`` or ``"name=x1,y1,x2,y2"`` (CLI and ROS parameter form) -> Region."""
    for sep in (":", "="):
        if sep in spec:
            name, _, coords = spec.partition(sep)
            break
    else:
        raise RegionError(f"region spec {spec!r} must look like 'name:x1,y1,x2,y2'")
    name = name.strip()
    if not name:
        raise RegionError(f"region spec {spec!r} has no name")
    try:
        values = [float(v) for v in coords.split(",")]
    except ValueError as exc:
        raise RegionError(f"region spec {spec!r}: coordinates must be numbers") from exc
    if len(values) != 4:
        raise RegionError(f"region spec {spec!r}: need exactly 4 coordinates x1,y1,x2,y2")
    return Region(id=name, box=values)


def parse_box_specs(values: "Sequence[str] | str") -> list[Region]:
    """Several box specs: a list of entries and/or ';'-separated ones ('a:1,2,3,4;b:5,6,7,8'); blanks skipped."""
    if isinstance(values, str):
        values = [values]
    specs = [spec.strip() for value in values for spec in value.split(";") if spec.strip()]
    regions = [parse_box_spec(spec) for spec in specs]
    ids = [r.id for r in regions]
    if len(ids) != len(set(ids)):
        raise RegionError(f"region ids must be unique, got {ids}")
    return regions
