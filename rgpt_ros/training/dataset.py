"""Training samples from QA records: tokens with the prompt masked, image, depth image and region masks.

Accepts ``rgpt-make-qa`` folders (``index.json`` + shards), single JSON lists in the reference training
format (``filename`` + ``conversations`` + ``rle``/``bbox``; give ``image_folder``/``depth_folder``) and
bench files. Prompts are built with the model's own helpers (``rgpt_ros.model.prompt``) and images with
its preprocessing (``rgpt_ros.model.preprocess``), so training sees exactly what inference sees.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from rgpt_ros.geometry.depth import decode_depth
from rgpt_ros.geometry.regions import Region
from rgpt_ros.jsonfiles import read_json_list
from rgpt_ros.model.preprocess import MODEL_IMAGE_SIZE, depth_to_model_image, image_to_pixel_values, regions_to_masks
from rgpt_ros.model.prompt import (ASSISTANT_HEADER, IMAGE_TOKEN, STOP_TOKEN, USER_HEADER, build_prompt,
                                   expand_regions, region_placeholder, tokenize_with_image)
from rgpt_ros.qa.references import resolve_references
from rgpt_ros.training.make_qa import DEPTH_IMAGES, IMAGES, INDEX_NAME

IGNORE_INDEX = -100
_IMAGE_PREFIX = re.compile(r"^\s*<image>\s*\n?", re.IGNORECASE)
_MASK = re.compile(r"<mask>", re.IGNORECASE)


class DatasetError(ValueError):
    """A record or data path that cannot be turned into a training sample."""


@dataclass
class RecordRef:
    """One record and the folders its relative paths resolve against."""

    record: dict
    root: Path
    image_folder: Optional[Path] = None
    depth_folder: Optional[Path] = None


def load_records(paths: Sequence[str | os.PathLike], image_folder: Optional[str | os.PathLike] = None,
                 depth_folder: Optional[str | os.PathLike] = None) -> list[RecordRef]:
    """Records of every path: an ``rgpt-make-qa`` folder (its training shards) or a JSON list file."""
    out: list[RecordRef] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            index = path / INDEX_NAME
            if not index.is_file():
                raise DatasetError(f"{path} is a folder without {INDEX_NAME} (not an rgpt-make-qa output)")
            files = [path / name for name in json.loads(index.read_text())["shards"]]
            folders = (path / IMAGES, path / DEPTH_IMAGES)
        elif path.is_file():
            files, folders = [path], (None, None)
        else:
            raise FileNotFoundError(f"training data not found: {path}")
        for file in files:
            records = read_json_list(file, DatasetError, "records")
            images = Path(image_folder) if image_folder else folders[0]
            depths = Path(depth_folder) if depth_folder else folders[1]
            out += [RecordRef(r, file.parent, images, depths) for r in records]
    if not out:
        raise DatasetError(f"no training records in {[str(p) for p in paths]}")
    return out


def record_regions(record: dict) -> list[Region]:
    """Regions of a record: ``rle`` when present, else ``bbox``; ids "0", "1", ..."""
    rles, boxes = record.get("rle") or [], record.get("bbox") or []
    if rles:
        return [Region(id=str(k), rle=rle) for k, rle in enumerate(rles)]
    return [Region(id=str(k), box=box) for k, box in enumerate(boxes)]


def encode_conversation(conversations: Sequence[dict], tokenizer, n_regions: int,
                        with_depth: bool) -> tuple[list[int], list[int], list[int]]:
    """Token ids (``IMAGE_TOKEN_INDEX`` once), labels (prompt = IGNORE_INDEX) and the region of each mention.

    Each human turn's ``<mask>`` tokens take the record's regions in order across the whole conversation
    (the reference binding); a turn naming regions ``Region [k]`` / ``<regionk>`` instead uses the record's
    region k. Answers are trained with their ``<|eot_id|>``.
    """
    turns = [t for t in conversations if t.get("from") in ("human", "gpt")]
    if len(turns) < 2 or turns[0]["from"] != "human":
        raise DatasetError("a conversation needs a human turn followed by a gpt turn")
    placeholders = [Region(id=str(k), box=(0, 0, 1, 1)) for k in range(n_regions)]
    ids: list[int] = []
    labels: list[int] = []
    mentions: list[int] = []
    offset = 0
    for t in range(0, len(turns) - 1, 2):
        human, gpt = turns[t], turns[t + 1]
        if human["from"] != "human" or gpt["from"] != "gpt":
            raise DatasetError(f"turns must alternate human/gpt, got {human['from']!r} then {gpt['from']!r}")
        text = _IMAGE_PREFIX.sub("", str(human["value"])).replace(IMAGE_TOKEN, "").strip()
        n_masks = len(_MASK.findall(text))
        if n_masks:
            if offset + n_masks > n_regions:
                raise DatasetError(f"the conversation has more <mask> tokens than its {n_regions} region(s)")
            turn_regions, base = placeholders[offset:offset + n_masks], offset
            offset += n_masks
        else:
            turn_regions, base = placeholders, 0
        if t == 0:
            prompt = expand_regions(text, turn_regions, with_depth=with_depth)
            piece = tokenize_with_image(build_prompt(prompt.text), tokenizer)
            turn_mentions = prompt.mentions
        else:
            resolved = resolve_references(text, turn_regions)
            body = resolved.render(lambda _k, _i: region_placeholder(with_depth))
            piece = tokenizer(f"{USER_HEADER}{body}{STOP_TOKEN}{ASSISTANT_HEADER}", add_special_tokens=False).input_ids
            turn_mentions = resolved.mentions
        mentions += [base + m for m in turn_mentions]
        answer = tokenizer(f"{str(gpt['value']).strip()}{STOP_TOKEN}", add_special_tokens=False).input_ids
        ids += piece + answer
        labels += [IGNORE_INDEX] * len(piece) + answer
    return ids, labels, mentions


def _read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"cannot read image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class SpatialQADataset(Dataset):
    """Samples for :class:`rgpt_ros.training.collator.SpatialCollator`.

    tokenizer: the model's tokenizer; with_depth: the model uses depth (``<mask> <depth>`` per mention and a
    depth image); max_text_tokens: text tokens kept per sample (the answer is cut, never the prompt).
    Depth image per record, first found: ``depth_image`` (model depth PNG), ``depth_folder/<filename>.png``,
    the metric ``depth_info`` PNG converted like the engine does, else the RGB image (the reference's fallback).
    """

    def __init__(self, records: Sequence[RecordRef], tokenizer, *, with_depth: bool = True,
                 image_size: int = MODEL_IMAGE_SIZE, max_text_tokens: Optional[int] = None) -> None:
        self.records = list(records)
        self.tokenizer = tokenizer
        self.with_depth = with_depth
        self.image_size = image_size
        self.max_text_tokens = max_text_tokens

    def __len__(self) -> int:
        return len(self.records)

    def text(self, i: int) -> tuple[list[int], list[int], list[int]]:
        ref = self.records[i]
        regions = record_regions(ref.record)
        try:
            ids, labels, mentions = encode_conversation(ref.record.get("conversations") or [], self.tokenizer,
                                                        len(regions), self.with_depth)
        except ValueError as exc:
            raise DatasetError(f"record {ref.record.get('id', i)!r}: {exc}") from exc
        if self.max_text_tokens is not None and len(ids) > self.max_text_tokens:
            ids, labels = ids[:self.max_text_tokens], labels[:self.max_text_tokens]
            if all(label == IGNORE_INDEX for label in labels):
                raise DatasetError(f"record {ref.record.get('id', i)!r}: the prompt alone is longer than "
                                   f"max_text_tokens={self.max_text_tokens}")
        return ids, labels, mentions

    def image_path(self, ref: RecordRef) -> Path:
        info = ref.record.get("image_info") or {}
        if info.get("file_path"):
            return ref.root / info["file_path"]
        if ref.image_folder is not None and ref.record.get("filename"):
            return ref.image_folder / f"{ref.record['filename']}.jpg"
        raise DatasetError(f"record {ref.record.get('id')!r} has no image_info.file_path (pass image_folder for "
                           "reference-format records)")

    def depth_image(self, ref: RecordRef, rgb: np.ndarray) -> np.ndarray:
        record = ref.record
        candidates = []
        if record.get("depth_image"):
            candidates.append(ref.root / record["depth_image"])
        if ref.depth_folder is not None and record.get("filename"):
            candidates.append(ref.depth_folder / f"{record['filename']}.png")
        for path in candidates:
            if path.is_file():
                image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
                if image is None:
                    raise FileNotFoundError(f"cannot read depth image {path}")
                if image.ndim == 2:
                    return np.repeat(image[:, :, None], 3, axis=2)
                return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        info = record.get("depth_info")
        if info and info.get("file_path"):
            raw = cv2.imread(str(ref.root / info["file_path"]), cv2.IMREAD_UNCHANGED)
            if raw is None:
                raise FileNotFoundError(f"cannot read depth {ref.root / info['file_path']}")
            depth = decode_depth(raw, "16UC1" if raw.dtype == np.uint16 else None, float(info.get("scale", 0.001)))
            return depth_to_model_image(depth)
        return rgb

    def __getitem__(self, i: int) -> dict[str, Any]:
        ref = self.records[i]
        ids, labels, mentions = self.text(i)
        rgb = _read_rgb(self.image_path(ref))
        height, width = rgb.shape[:2]
        regions = record_regions(ref.record)
        masks = regions_to_masks([regions[m] for m in mentions], height, width, self.image_size)
        sample = {"input_ids": torch.tensor(ids, dtype=torch.long), "labels": torch.tensor(labels, dtype=torch.long),
                  "pixel_values": torch.from_numpy(image_to_pixel_values(rgb, self.image_size)),
                  "masks": torch.from_numpy(masks)}
        if self.with_depth:
            sample["depth_pixel_values"] = torch.from_numpy(image_to_pixel_values(self.depth_image(ref, rgb),
                                                                                  self.image_size))
        return sample
