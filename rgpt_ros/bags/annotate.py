"""Offline annotation of one bag: every input message copied unchanged plus ``/rgpt/reward`` and ``/rgpt/regions``.

The per-frame work is :class:`rgpt_ros.reward.pipeline.RewardPipeline` (the same code the live
reward node runs) fed by :mod:`rgpt_ros.sync` (the same synchroniser); this module only reads,
converts and writes.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

from rgpt_ros.bags.errors import BagError, CorruptBagError
from rgpt_ros.bags.export import write_csv
from rgpt_ros.bags.messages import frame_from_msgs, region_array_msg, region_from_msg, spatial_reward_msg, stamp_ns
from rgpt_ros.bags.plot import write_plot
from rgpt_ros.bags.reader import BagReader
from rgpt_ros.bags.records import FrameRecord
from rgpt_ros.bags.topics import BagTopics, detect_topics
from rgpt_ros.bags.typestore import REGION_ARRAY, SPATIAL_REWARD, rgpt_typestore
from rgpt_ros.bags.writer import AtomicBagWriter
from rgpt_ros.geometry.regions import Region, RegionError

REWARD_TOPIC = "/rgpt/reward"
REGIONS_TOPIC = "/rgpt/regions"
SENSOR_DEPTH = "sensor"

log = logging.getLogger(__name__)


@dataclass
class AnnotationOptions:
    """Everything about one annotation run except the input and output paths (picklable for workers)."""

    regions: Sequence[Region] = ()
    pair: Optional[tuple[str, str]] = None
    config: Optional[Mapping[str, Any]] = None
    backend: str = "geometric"
    rgb_topic: Optional[str] = None
    depth_topic: Optional[str] = None
    info_topic: Optional[str] = None
    regions_topic: Optional[str] = None
    reward_topic: str = REWARD_TOPIC
    regions_out_topic: str = REGIONS_TOPIC
    storage: Optional[str] = None
    csv_path: Optional[Path] = None
    plot_path: Optional[Path] = None
    partial: bool = False
    overwrite: bool = False
    progress: bool = False
    depth_scale: Optional[float] = None
    depth_model: Optional[str] = None
    depth_device: str = "cpu"


@dataclass
class AnnotationSummary:
    """What one annotation run produced."""

    bag: str
    out: str
    storage: str
    topics: dict[str, Optional[str]]
    frames: int
    valid_frames: int
    messages_copied: int
    seconds: float
    csv: Optional[str] = None
    plot: Optional[str] = None
    damage: Optional[str] = None
    depth_source: str = SENSOR_DEPTH
    records: list[FrameRecord] = field(default_factory=list, repr=False)

    @property
    def valid_fraction(self) -> float:
        return self.valid_frames / self.frames if self.frames else 0.0

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (without the per-frame records)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "records"}
        out["topics"] = dict(self.topics)
        out["valid_fraction"] = self.valid_fraction
        return out


def _check_paths(in_path: Path, out_path: Path) -> None:
    src, dst = in_path.resolve(), out_path.resolve()
    if dst == src or src in dst.parents or dst in src.parents:
        raise BagError(f"output {str(out_path)!r} must lie outside the input bag {str(in_path)!r}")


def _initial_regions(reader: BagReader, topics: BagTopics, options: AnnotationOptions) -> list[Region]:
    """Regions from the options, else the first RegionArray message of the bag's regions topic."""
    if options.regions:
        return list(options.regions)
    if topics.regions:
        for conn, _, raw in reader.messages([topics.regions]):
            msg = reader.deserialize(raw, conn.msgtype)
            if msg.regions:
                return [region_from_msg(m) for m in msg.regions]
    raise BagError(f"bag {reader.name!r}: no regions given (--region NAME=x1,y1,x2,y2) and no RegionArray "
                   "topic with regions in the bag")


def _pair(regions: Sequence[Region], pair: Optional[tuple[str, str]], config_pair: tuple[str, str]) -> tuple[str, str]:
    """The measured pair: ``pair`` if given, else the config's pair when both exist, else the only two regions."""
    ids = [r.id for r in regions]
    if len(set(ids)) != len(ids):
        raise RegionError(f"region ids must be unique, got {ids}")
    if pair is None:
        if all(p in ids for p in config_pair):
            return config_pair
        if len(ids) != 2:
            raise RegionError(f"{len(ids)} regions {ids}: say which two to measure with --pair A,B")
        return ids[0], ids[1]
    missing = [p for p in pair if p not in ids]
    if missing:
        raise RegionError(f"--pair names {missing} that are not among the regions {ids}")
    return pair[0], pair[1]


def _progress_bar(total: int, name: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total or None, desc=Path(name).name, unit="msg", disable=not enabled, leave=False,
                dynamic_ncols=True)


def annotate_bag(in_path: str | Path, out_path: str | Path, options: Optional[AnnotationOptions] = None,
                 **overrides: Any) -> AnnotationSummary:
    """Annotate ``in_path`` into a new bag at ``out_path`` (written atomically; the input is only read).

    ``options`` (or keyword overrides of its fields) choose regions, pair, config, topics and outputs.
    With ``depth_model`` (a metric Depth Anything checkpoint) a bag without depth gets its depth
    estimated from each colour image; a bag with depth keeps its sensor depth (the model is not used).
    Raises BagError / CorruptBagError / TopicDetectionError / RegionError (all ValueError) on bad input.
    """
    from rgpt_ros.bags.frames import FrameAssembler, make_pipeline
    from rgpt_ros.bags.settings import AnnotationSettings

    options = dataclasses.replace(options or AnnotationOptions())
    for key, value in overrides.items():
        if not hasattr(options, key):
            raise TypeError(f"annotate_bag got an unknown option {key!r}")
        setattr(options, key, value)
    if options.backend != "geometric":
        raise BagError(f"backend {options.backend!r}: the reward pipeline measures distances geometrically from "
                       "depth; only 'geometric' is available for reward annotation")
    in_path, out_path = Path(in_path), Path(out_path)
    _check_paths(in_path, out_path)
    settings = AnnotationSettings.from_mapping(options.config)
    depth_scale = options.depth_scale if options.depth_scale is not None else settings.depth_scale
    started = time.perf_counter()
    ts = rgpt_typestore()
    with BagReader(in_path, partial=options.partial) as reader:
        topics = detect_topics(reader, options.rgb_topic, options.depth_topic, options.info_topic,
                               options.regions_topic, depth_optional=bool(options.depth_model))
        estimate_depth, depth_source = _depth_estimate(reader.name, topics, options)
        clash = [t for t in (options.reward_topic, options.regions_out_topic) if t in reader.topics()]
        if clash:
            raise BagError(f"bag {reader.name!r} already has {clash}; choose other output topic names "
                           "(--reward-topic / --regions-out-topic)")
        regions = _initial_regions(reader, topics, options)
        pair = _pair(regions, options.pair, settings.pair)
        pipeline = make_pipeline(settings, pair)
        assembler = FrameAssembler(topics, slop=settings.sync_slop_s, queue_size=settings.sync_queue_size)
        storage = options.storage or reader.storage
        records: list[FrameRecord] = []
        problems: list[str] = []
        copied = 0
        with AtomicBagWriter(out_path, storage, overwrite=options.overwrite) as out, \
                _progress_bar(reader.message_count, reader.name, options.progress) as bar:
            conns = {id(c): out.copy_connection(c, reader.typestore) for c in reader.connections}
            reward_conn = out.add_topic(options.reward_topic, SPATIAL_REWARD, ts)
            regions_conn = out.add_topic(options.regions_out_topic, REGION_ARRAY, ts)
            for conn, log_time, raw in reader.messages():
                target = conns.get(id(conn)) or out.copy_connection(conn, reader.typestore)
                out.write(target, log_time, raw)
                copied += 1
                bar.update(1)
                if conn.topic not in assembler.topics:
                    continue
                try:
                    msg = reader.decode(conn, log_time, raw)
                except CorruptBagError as exc:
                    if not options.partial:
                        raise
                    problems.append(str(exc))  # a damaged message: copied as is, not annotated
                    continue
                for msgs, frame_log_time in assembler.add(conn.topic, log_time, msg):
                    try:
                        frame = frame_from_msgs(msgs.rgb, msgs.depth, msgs.info, depth_scale=depth_scale,
                                                up=settings.up_vector, min_depth_m=settings.min_depth_m,
                                                max_depth_m=settings.max_depth_m, estimate_depth=estimate_depth)
                    except ValueError as exc:
                        bad = BagError(f"bag {reader.name!r}: frame at {stamp_ns(msgs.rgb.header)} ns cannot be "
                                       f"used: {exc}")
                        if not options.partial:
                            raise bad from exc
                        problems.append(str(bad))
                        continue
                    if not records:
                        pipeline.reset(frame, regions)
                    result = pipeline.step(frame)
                    records.append(_record(len(records), frame.stamp_ns, result))
                    reward = spatial_reward_msg(ts, result, frame.stamp_ns, frame.frame_id)
                    out.write(reward_conn, frame_log_time, ts.serialize_cdr(reward, SPATIAL_REWARD))
                    tracked = region_array_msg(ts, result.regions, frame.stamp_ns, frame.frame_id, frame.height,
                                               frame.width)
                    out.write(regions_conn, frame_log_time, ts.serialize_cdr(tracked, REGION_ARRAY))
        if reader.damage is not None:
            problems.insert(0, str(reader.damage))
    if len(problems) > 4:
        problems[4:] = [f"... and {len(problems) - 4} more"]
    summary = AnnotationSummary(bag=str(in_path), out=str(out_path), storage=storage,
                                topics={"rgb": topics.rgb, "depth": topics.depth, "info": topics.info,
                                        "regions": topics.regions},
                                frames=len(records), valid_frames=sum(r.valid for r in records),
                                messages_copied=copied, seconds=0.0, damage="; ".join(problems) or None,
                                depth_source=depth_source, records=records)
    if options.csv_path:
        summary.csv = str(write_csv(records, options.csv_path))
    if options.plot_path:
        summary.plot = str(write_plot(records, options.plot_path, title=in_path.name))
    summary.seconds = time.perf_counter() - started
    return summary


def _depth_estimate(name: str, topics: BagTopics, options: AnnotationOptions) -> tuple[Any, str]:
    """(depth estimator or None, where depth comes from): the model only when the bag has no depth topic."""
    if not options.depth_model:
        return None, SENSOR_DEPTH
    if topics.depth is not None:
        log.warning("bag %r has depth on %s: using the sensor depth; the depth model %r is ignored", name,
                    topics.depth, options.depth_model)
        return None, SENSOR_DEPTH
    from rgpt_ros.bags.depth_model import load_depth_model

    log.info("bag %r has no depth topic: estimating depth with %r", name, options.depth_model)
    return load_depth_model(str(options.depth_model), options.depth_device), f"model:{options.depth_model}"


def _record(index: int, stamp: int, result: Any) -> FrameRecord:
    boxes, tracked = {}, {}
    height, width = result.image_size
    for region in result.regions:
        tracked[region.id] = bool(region.tracked)
        try:
            boxes[region.id] = region.bounding_box(height, width) if region.tracked else None
        except RegionError:
            boxes[region.id] = None
    return FrameRecord(frame=index, stamp_ns=stamp, distance_m=float(result.distance), reward=float(result.reward),
                       valid=bool(result.valid), progress=float(result.progress), success=bool(result.success),
                       status=str(result.status), boxes=boxes, tracked=tracked)
