"""Template spatial QAs from RGB-D frames: scene graph -> balanced questions -> sharded training JSON + images.

Output folder::

    images/<stem>.jpg          RGB image (reference: ``image_folder/<filename>.jpg``)
    depth_images/<stem>.png    the model's depth image (inverse depth, min-max to 0..255; reference depth folder)
    depth/<stem>.png           16-bit metric depth in millimetres (bench RGB-D extension, for evaluation)
    train-0000k-of-0000n.json  training records (JSON lists)
    eval.json                  held-out frames' questions as a bench file (``--eval-fraction``)
    index.json                 shards, counts per category, settings

A record is the reference training format (``filename``, ``conversations`` with ``<image>`` and one
``<mask> <depth>`` per region mention, gpt answers naming ``Region [k]``, ``rle`` per mention as COCO RLE,
``bbox``) plus, for single-turn records, every bench field (``id``, ``image_info``, ``text_q``, ``qa_info``,
``depth_info``, ``camera``) so the same file can be scored with ``rgpt-bench``.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

import cv2
import numpy as np
from tqdm import tqdm

from rgpt_ros.geometry.depth import encode_depth_mm
from rgpt_ros.geometry.regions import Region, mask_to_rle
from rgpt_ros.model.preprocess import depth_to_model_image
from rgpt_ros.model.prompt import expand_regions
from rgpt_ros.qa.bench import make_entry, write_json_atomic
from rgpt_ros.qa.categories import BENCH_CATEGORIES, get_category
from rgpt_ros.qa.references import resolve_references
from rgpt_ros.training.qa_templates import render_question, role_names, templates_for
from rgpt_ros.training.scene_graph import Margins, RegionNode, SceneGraph
from rgpt_ros.training.sources import SourceFrame

Rephraser = Callable[[str, str], str]
"""(question naming ``Region [k]``, category) -> a reworded question naming the same regions."""

IMAGES, DEPTH_IMAGES, METRIC_DEPTH = "images", "depth_images", "depth"
INDEX_NAME, EVAL_NAME = "index.json", "eval.json"


class MakeQAError(ValueError):
    """Bad generation settings."""


@dataclass
class MakeQAConfig:
    """How QAs are generated.

    seed:          everything random (case, wording, eval split) derives from (seed, frame number).
    categories:    categories to generate (default: the 24 bench categories).
    per_category:  stop generating a category once it has this many training QAs (None: no cap).
    per_frame:     at most this many QAs per category per frame.
    balance:       at the end, cut every category to the rarest one's count (training QAs only).
    turns:         QA pairs per conversation (1: single-turn records that are also bench samples).
    shard_size:    records per training shard.
    eval_fraction: share of frames held out as eval.json (bench format).
    margins:       what counts as too close to call (skipped).
    """

    seed: int = 0
    categories: tuple[str, ...] = BENCH_CATEGORIES
    per_category: Optional[int] = None
    per_frame: int = 1
    balance: bool = True
    turns: int = 1
    shard_size: int = 5000
    eval_fraction: float = 0.0
    margins: Margins = field(default_factory=Margins)
    jpeg_quality: int = 95

    def __post_init__(self) -> None:
        for name in self.categories:
            get_category(name)
        if self.per_category is not None and self.per_category < 1:
            raise MakeQAError(f"per_category must be >= 1, got {self.per_category}")
        if self.per_frame < 1 or self.turns < 1 or self.shard_size < 1:
            raise MakeQAError(f"per_frame, turns and shard_size must be >= 1, got {self.per_frame}, {self.turns}, "
                              f"{self.shard_size}")
        if not 0.0 <= self.eval_fraction < 1.0:
            raise MakeQAError(f"eval_fraction must be in [0, 1), got {self.eval_fraction}")


@dataclass
class QAItem:
    """One question about one frame. regions: the mentioned regions in mention order (Region [k] = regions[k])."""

    category: str
    question: str
    answer: str
    regions: list[Region]
    truth: dict[str, Any]


@dataclass
class QASummary:
    """What a generation run produced."""

    out_dir: Path
    counts: dict[str, int]
    records: int
    eval_records: int
    frames_seen: int
    frames_used: int
    shards: list[str]
    skipped_not_well_posed: int = 0
    rephrase_rejected: int = 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["out_dir"] = str(self.out_dir)
        return d


# ---------------------------------------------------------------------------------------------- questions
def frame_questions(graph: SceneGraph, rng: np.random.Generator, categories: Sequence[str], per_frame: int,
                    key: str, answer_counts: Counter, rephrase: Optional[Rephraser] = None,
                    stats: Optional[Counter] = None) -> list[QAItem]:
    """Up to ``per_frame`` well-posed questions per category about one frame's scene graph.

    Predicates alternate yes/no and choices alternate which mention is the answer (``answer_counts`` tracks
    them across frames) by swapping the two regions, which keeps the case well posed.
    """
    items: list[QAItem] = []
    stats = stats if stats is not None else Counter()
    for category in categories:
        cases = graph.cases(category)
        if not cases:
            stats["not_well_posed"] += 1
            continue
        picks = rng.choice(len(cases), size=min(per_frame, len(cases)), replace=False)
        templates = templates_for(category)
        for p in sorted(int(i) for i in picks):
            roles = list(cases[p])
            template = templates[int(rng.integers(len(templates)))]
            rendered = render_question(template)
            item_key = f"{key}|{category}|{p}"
            answer = graph.answer(category, roles, role_names(rendered.order), item_key)
            kind = get_category(category).answer
            if kind in ("predicate", "choice"):
                outcome = _outcome(answer, roles, rendered.order, kind)
                if answer_counts[(category, outcome)] > answer_counts[(category, not outcome)]:
                    roles.reverse()
                    answer = graph.answer(category, roles, role_names(rendered.order), item_key)
                    outcome = _outcome(answer, roles, rendered.order, kind)
                answer_counts[(category, outcome)] += 1
            question = rendered.text
            if rephrase is not None:
                question = _rephrased(rephrase, question, category, stats)
            mentioned = [roles[role] for role in rendered.order]
            items.append(QAItem(category, question, answer.text, [n.region for n in mentioned],
                                _truth(answer, roles, rendered.order)))
    return items


def _outcome(answer, roles: Sequence[RegionNode], order: Sequence[int], kind: str) -> bool:
    """Predicate: the yes/no; choice: whether the first-mentioned region is the answer."""
    if kind == "predicate":
        return bool(answer.yes)
    return answer.choice == roles[order[0]].region.id


def _truth(answer, roles: Sequence[RegionNode], order: Sequence[int]) -> dict[str, Any]:
    if answer.yes is not None:
        return {"yes": bool(answer.yes)}
    if answer.choice is not None:
        mentioned = [roles[role].region.id for role in order]
        return {"choice": mentioned.index(answer.choice)}
    if answer.unit == "oclock":
        return {"hour": int(answer.value)}
    return {"value": round(float(answer.value), 4)}


def _rephrased(rephrase: Rephraser, question: str, category: str, stats: Counter) -> str:
    """The rephrased question when it names exactly the same regions in the same order, else the original."""
    try:
        candidate = str(rephrase(question, category)).strip()
    except Exception as exc:  # an external LLM hook: never lose the sample for its failure
        stats["rephrase_error"] += 1
        stats[f"rephrase_error:{type(exc).__name__}"] += 1
        return question
    placeholders = [Region(id=str(k), box=(0, 0, 1, 1)) for k in range(4)]
    try:
        before = resolve_references(question, placeholders).mentions
        same = resolve_references(candidate, placeholders).mentions == before
    except ValueError:
        same = False
    if not candidate or not same:
        stats["rephrase_rejected"] += 1
        return question
    return candidate


# ---------------------------------------------------------------------------------------------- records
def _camera_dict(camera) -> dict:
    return {"fx": float(camera.fx), "fy": float(camera.fy), "cx": float(camera.cx), "cy": float(camera.cy)}


def single_turn_record(item: QAItem, record_id: str, stem: str, height: int, width: int, camera) -> dict:
    """A training record that is also a bench sample (``text_q`` + RGB-D extension)."""
    masks = [r.to_mask(height, width) for r in item.regions]
    entry = make_entry(record_id, f"{IMAGES}/{stem}.jpg", height, width, item.question, item.answer, item.category,
                       get_category(item.category).kind, masks, f"{METRIC_DEPTH}/{stem}.png", 0.001, camera)
    numbered = [Region(id=str(k), mask=m) for k, m in enumerate(masks)]
    human = expand_regions(item.question, numbered, with_depth=True).text
    entry["conversations"] = [{"from": "human", "value": human}, {"from": "gpt", "value": item.answer}]
    entry["filename"] = stem
    entry["depth_image"] = f"{DEPTH_IMAGES}/{stem}.png"
    entry["truth"] = item.truth
    return entry


def multi_turn_record(items: Sequence[QAItem], record_id: str, stem: str, height: int, width: int, camera) -> dict:
    """Several QAs about one frame as one conversation; ``rle``/``bbox`` list every mention in order."""
    conversations, masks, categories = [], [], []
    for t, item in enumerate(items):
        turn_masks = [r.to_mask(height, width) for r in item.regions]
        numbered = [Region(id=str(k), mask=m) for k, m in enumerate(turn_masks)]
        text = expand_regions(item.question, numbered, with_depth=True).text
        if t:
            text = text.split("\n", 1)[1]  # only the first turn carries <image>
        conversations += [{"from": "human", "value": text}, {"from": "gpt", "value": item.answer}]
        masks += turn_masks
        categories.append(item.category)
    boxes = []
    for m in masks:
        ys, xs = np.nonzero(m)
        boxes.append([int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1])
    return {"id": record_id, "filename": stem, "image_info": {"file_path": f"{IMAGES}/{stem}.jpg", "height": height,
                                                              "width": width},
            "depth_image": f"{DEPTH_IMAGES}/{stem}.png", "depth_info": {"file_path": f"{METRIC_DEPTH}/{stem}.png",
                                                                        "scale": 0.001},
            "camera": _camera_dict(camera), "qa_info": {"type": "multi_turn", "categories": categories},
            "conversations": conversations, "bbox": boxes, "rle": [mask_to_rle(m) for m in masks],
            "truth": [item.truth for item in items]}


def write_frame_files(out: Path, stem: str, source: SourceFrame, jpeg_quality: int = 95) -> None:
    """RGB JPEG, the model's depth image (8-bit PNG) and 16-bit millimetre depth for one frame."""
    frame = source.frame
    bgr = cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(str(out / IMAGES / f"{stem}.jpg"), bgr, [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)]):
        raise OSError(f"cannot write {out / IMAGES / f'{stem}.jpg'}")
    cv2.imwrite(str(out / DEPTH_IMAGES / f"{stem}.png"), depth_to_model_image(frame.depth)[:, :, 0])
    cv2.imwrite(str(out / METRIC_DEPTH / f"{stem}.png"), encode_depth_mm(frame.depth))


# ---------------------------------------------------------------------------------------------- driver
def make_qa(sources: Iterable[SourceFrame], out_dir: str | os.PathLike, config: Optional[MakeQAConfig] = None, *,
            rephrase: Optional[Rephraser] = None, progress: bool = True, total: Optional[int] = None) -> QASummary:
    """Generate QAs for every frame of ``sources`` into ``out_dir`` (see the module doc for the layout).

    Deterministic for a given config and source order. Stops early once every category reached
    ``per_category``.
    """
    config = config or MakeQAConfig()
    out = Path(out_dir)
    for sub in (IMAGES, DEPTH_IMAGES, METRIC_DEPTH):
        (out / sub).mkdir(parents=True, exist_ok=True)
    counts: Counter = Counter()
    answer_counts: Counter = Counter()
    stats: Counter = Counter()
    train: list[tuple[int, QAItem, str]] = []  # (frame number, item, stem)
    frame_meta: dict[str, tuple[int, int, Any]] = {}
    eval_records: list[dict] = []
    frames_seen = 0
    bar = tqdm(sources, total=total, desc="rgpt-make-qa", unit="frame", disable=not progress, file=sys.stderr)
    for number, source in enumerate(bar):
        frames_seen += 1
        open_categories = [c for c in config.categories
                           if config.per_category is None or counts[c] < config.per_category]
        held_out = np.random.default_rng([config.seed, number, 1]).random() < config.eval_fraction
        if not open_categories and not held_out:
            break
        graph = SceneGraph(source.frame, source.regions, margins=config.margins)
        if len(graph) == 0:
            stats["frames_without_measurable_regions"] += 1
            continue
        rng = np.random.default_rng([config.seed, number])
        categories = config.categories if held_out else open_categories
        items = frame_questions(graph, rng, categories, config.per_frame, f"{config.seed}|{source.key}",
                                answer_counts, rephrase, stats)
        if not items:
            continue
        _compact_regions(items, source.frame.height, source.frame.width)
        stem = source.key
        write_frame_files(out, stem, source, config.jpeg_quality)
        height, width = source.frame.height, source.frame.width
        frame_meta[stem] = (height, width, source.frame.camera)
        if held_out:
            eval_records += [single_turn_record(item, f"{stem}_{k:02d}_{item.category}", stem, height, width,
                                                source.frame.camera) for k, item in enumerate(items)]
            continue
        for item in items:
            if config.per_category is None or counts[item.category] < config.per_category:
                counts[item.category] += 1
                train.append((number, item, stem))
        bar.set_postfix(qas=len(train))
    bar.close()
    if config.balance and train:
        train = _balanced(train, config.categories)
    records = _records(train, frame_meta, config.turns)
    shards = _write_shards(records, out, config.shard_size)
    if eval_records:
        write_json_atomic(eval_records, out / EVAL_NAME)
    used = {stem for _, _, stem in train} | {r["filename"] for r in eval_records}
    _remove_unused_frames(out, set(frame_meta) - used)
    final_counts = Counter(item.category for _, item, _ in train)
    summary = QASummary(out, {c: final_counts.get(c, 0) for c in config.categories}, len(records), len(eval_records),
                        frames_seen, len(used), shards, stats["not_well_posed"], stats["rephrase_rejected"])
    index = {"format": "rgpt_ros spatial QA v1", "shards": shards, "eval": EVAL_NAME if eval_records else None,
             "image_folder": IMAGES, "depth_folder": DEPTH_IMAGES, "counts": summary.counts,
             "records": len(records), "eval_records": len(eval_records), "frames_used": len(used),
             "stats": dict(stats), "config": {**asdict(config), "categories": list(config.categories)}}
    write_json_atomic(index, out / INDEX_NAME)
    return summary


def _compact_regions(items: Sequence[QAItem], height: int, width: int) -> None:
    """Replace full-size mask regions by their RLE (QAs are held until balancing; masks would fill memory)."""
    cache: dict[int, Region] = {}
    for item in items:
        compact = []
        for region in item.regions:
            if region.mask is not None:
                if id(region) not in cache:
                    cache[id(region)] = Region(id=region.id, rle=mask_to_rle(region.to_mask(height, width)))
                region = cache[id(region)]
            compact.append(region)
        item.regions = compact


def _balanced(train: list, categories: Sequence[str]) -> list:
    """Keep the first n QAs of every category, n = the rarest generated category's count."""
    counts = Counter(item.category for _, item, _ in train)
    present = [c for c in categories if counts[c]]
    limit = min(counts[c] for c in present)
    kept: Counter = Counter()
    out = []
    for entry in train:
        category = entry[1].category
        if kept[category] < limit:
            kept[category] += 1
            out.append(entry)
    return out


def _records(train: list, frame_meta: dict, turns: int) -> list[dict]:
    by_frame: dict[str, list[QAItem]] = {}
    for _, item, stem in train:
        by_frame.setdefault(stem, []).append(item)
    records = []
    for stem, items in by_frame.items():
        height, width, camera = frame_meta[stem]
        for start in range(0, len(items), turns):
            chunk = items[start:start + turns]
            record_id = f"{stem}_{start:03d}"
            if turns == 1:
                records.append(single_turn_record(chunk[0], f"{record_id}_{chunk[0].category}", stem, height, width,
                                                  camera))
            else:
                records.append(multi_turn_record(chunk, record_id, stem, height, width, camera))
    return records


def _write_shards(records: list[dict], out: Path, shard_size: int) -> list[str]:
    n = max(1, math.ceil(len(records) / shard_size))
    names = []
    for i in range(n):
        name = f"train-{i:05d}-of-{n:05d}.json"
        write_json_atomic(records[i * shard_size:(i + 1) * shard_size], out / name)
        names.append(name)
    for stale in out.glob("train-*-of-*.json"):  # shards of an earlier run with another shard count
        if stale.name not in names:
            stale.unlink()
    return names


def _remove_unused_frames(out: Path, stems: set[str]) -> None:
    for stem in stems:
        files = (out / IMAGES / f"{stem}.jpg", out / DEPTH_IMAGES / f"{stem}.png", out / METRIC_DEPTH / f"{stem}.png")
        for path in files:
            if path.exists():
                path.unlink()


def load_index(out_dir: str | os.PathLike) -> dict:
    """The ``index.json`` of a generated QA folder."""
    path = Path(out_dir) / INDEX_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found (not an rgpt-make-qa output folder)")
    return json.loads(path.read_text())
