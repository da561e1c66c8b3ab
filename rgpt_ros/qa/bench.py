"""SpatialRGPT-Bench files: load samples (with this project's RGB-D extension), build frames, write atomically.

A sample: ``id``, ``image_info{file_path,height,width}``, ``text_q``, ``qa_info{type,category}``,
``conversations`` (human turn, gpt turn = reference answer), ``bbox`` and ``rle`` per region; optional
``depth_info{file_path,scale}`` (16-bit PNG, metres = value x scale) and ``camera{fx,fy,cx,cy}``.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import cv2
import numpy as np

from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.camera import CameraIntrinsics
from rgpt_ros.geometry.depth import decode_depth
from rgpt_ros.geometry.regions import Region, mask_to_rle
from rgpt_ros.jsonfiles import read_json_list

_BENCH_REFERENCE = re.compile(r"Region \[(\d+)\]")

DepthEstimator = Callable[[np.ndarray], np.ndarray]
"""rgb (H, W, 3) uint8 -> metric depth (H, W) float32 metres (NaN invalid)."""


class BenchFormatError(ValueError):
    """A bench file or sample that does not follow the format."""


@dataclass
class BenchSample:
    """One bench question with everything needed to answer and score it."""

    id: str
    question: str
    category: str
    qa_type: str
    reference: str
    image_path: Path
    height: int
    width: int
    regions: list[Region]
    depth_path: Optional[Path] = None
    depth_scale: float = 0.001
    camera: Optional[CameraIntrinsics] = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def has_depth(self) -> bool:
        return self.depth_path is not None and self.camera is not None


def load_bench(path: str | os.PathLike, root: Optional[str | os.PathLike] = None) -> list[BenchSample]:
    """Read a bench JSON list; image/depth paths are relative to ``root`` (default: the JSON's folder).

    Raises FileNotFoundError for a missing file and BenchFormatError naming the bad sample and field.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"bench file not found: {path}")
    entries = read_json_list(path, BenchFormatError, "samples")
    base = Path(root) if root is not None else path.parent
    return [parse_sample(entry, base, i) for i, entry in enumerate(entries)]


def parse_sample(entry: dict, root: Path, position: int = 0) -> BenchSample:
    """One bench entry -> BenchSample (regions from ``rle`` when present, else ``bbox``)."""
    where = f"sample {entry.get('id', position)!r}" if isinstance(entry, dict) else f"sample #{position}"
    try:
        info = entry["image_info"]
        height, width = int(info["height"]), int(info["width"])
        conversations = entry.get("conversations") or []
        question = entry.get("text_q") or conversations[0]["value"]
        reference = conversations[1]["value"] if len(conversations) > 1 else entry.get("answer", "")
        qa = entry["qa_info"]
        category, qa_type = str(qa["category"]), str(qa.get("type", ""))
        image_path = root / info["file_path"]
    except (KeyError, TypeError, IndexError, ValueError) as exc:
        raise BenchFormatError(f"{where}: missing or malformed field ({exc!r})") from exc
    regions = _regions(entry, height, width, where)
    depth_path, scale, camera = None, 0.001, None
    if entry.get("depth_info"):
        try:
            depth_path = root / entry["depth_info"]["file_path"]
            scale = float(entry["depth_info"].get("scale", 0.001))
        except (KeyError, TypeError, ValueError) as exc:
            raise BenchFormatError(f"{where}: malformed depth_info ({exc!r})") from exc
    if entry.get("camera"):
        try:
            camera = CameraIntrinsics.from_dict({**entry["camera"], "width": width, "height": height})
        except (ValueError, TypeError) as exc:
            raise BenchFormatError(f"{where}: malformed camera ({exc})") from exc
    return BenchSample(str(entry.get("id", position)), question, category, qa_type, reference, image_path,
                       height, width, regions, depth_path, scale, camera, entry)


def _regions(entry: dict, height: int, width: int, where: str) -> list[Region]:
    rles, boxes = entry.get("rle") or [], entry.get("bbox") or []
    if not rles and not boxes:
        raise BenchFormatError(f"{where}: no 'rle' or 'bbox' regions")
    if rles:
        return [Region(id=str(k), rle=rle) for k, rle in enumerate(rles)]
    return [Region(id=str(k), box=box) for k, box in enumerate(boxes)]


def load_frame(sample: BenchSample, depth_estimator: Optional[DepthEstimator] = None,
               horizontal_fov_deg: float = 60.0) -> RGBDFrame:
    """The sample's RGB-D frame: sensor depth when the sample has it, else ``depth_estimator(rgb)`` with
    the sample's intrinsics or a field-of-view guess, else an RGB-only frame (depth None)."""
    bgr = cv2.imread(str(sample.image_path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"sample {sample.id!r}: cannot read image {sample.image_path}")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    camera = sample.camera or CameraIntrinsics.from_fov(rgb.shape[1], rgb.shape[0], horizontal_fov_deg)
    depth = None
    if sample.depth_path is not None:
        raw = cv2.imread(str(sample.depth_path), cv2.IMREAD_UNCHANGED)
        if raw is None:
            raise FileNotFoundError(f"sample {sample.id!r}: cannot read depth {sample.depth_path}")
        depth = decode_depth(raw, "16UC1" if raw.dtype == np.uint16 else None, sample.depth_scale)
    elif depth_estimator is not None:
        depth = np.asarray(depth_estimator(rgb), dtype=np.float32)
    return RGBDFrame(rgb=rgb, depth=depth, camera=camera)


def make_entry(sample_id: str, image_file: str, height: int, width: int, question: str, answer: str,
               category: str, qa_type: str, masks: Sequence[np.ndarray], depth_file: Optional[str] = None,
               depth_scale: float = 0.001, camera: Optional[CameraIntrinsics] = None) -> dict[str, Any]:
    """A bench entry in the published layout (+ the RGB-D extension when ``depth_file`` is given).

    ``question`` names the regions ``Region [k]`` numbered in order of first mention; the human turn gets one
    ``<mask>`` per mention."""
    boxes = []
    for m in masks:
        ys, xs = np.nonzero(m)
        boxes.append([int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1])
    mentioned = [int(k) for k in _BENCH_REFERENCE.findall(question)]
    if list(dict.fromkeys(mentioned)) != list(range(len(masks))):
        raise BenchFormatError(f"question {question!r} must name Region [0] .. Region [{len(masks) - 1}] in order of "
                               "first mention (the k-th <mask> is the k-th region)")
    human = "<image>\n" + _BENCH_REFERENCE.sub("<mask>", question)
    entry: dict[str, Any] = {
        "id": sample_id,
        "image_info": {"file_path": image_file, "height": int(height), "width": int(width)},
        "text_q": question,
        "qa_info": {"type": qa_type, "category": category},
        "conversations": [{"from": "human", "value": human}, {"from": "gpt", "value": answer}],
        "bbox": boxes,
        "rle": [mask_to_rle(m) for m in masks],
    }
    if depth_file is not None:
        entry["depth_info"] = {"file_path": depth_file, "scale": float(depth_scale)}
    if camera is not None:
        entry["camera"] = {"fx": camera.fx, "fy": camera.fy, "cx": camera.cx, "cy": camera.cy}
    return entry


def write_json_atomic(data: Any, path: str | os.PathLike) -> Path:
    """Write JSON via a temporary file + rename, so readers never see half a file."""
    return _write_atomic(Path(path), json.dumps(data, indent=1))


def write_jsonl_atomic(rows: Iterable[dict], path: str | os.PathLike) -> Path:
    """Write one JSON object per line via a temporary file + rename."""
    return _write_atomic(Path(path), "".join(json.dumps(row) + "\n" for row in rows))


def _write_atomic(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path
