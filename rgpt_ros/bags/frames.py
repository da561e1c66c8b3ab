"""Bag messages -> synchronised RGB-D sets (via :mod:`rgpt_ros.sync`) and the reward pipeline hookup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rgpt_ros.bags.topics import BagTopics
from rgpt_ros.sync import ApproximateTimeSynchronizer

if TYPE_CHECKING:
    from rgpt_ros.bags.settings import AnnotationSettings
    from rgpt_ros.reward.pipeline import RewardPipeline

DEFAULT_SLOP_S = 0.025
DEFAULT_QUEUE = 15


@dataclass(frozen=True)
class SyncedMessages:
    """Colour, depth and CameraInfo messages that belong together (``depth`` None: the bag has no depth)."""

    rgb: Any
    depth: Any
    info: Any


class FrameAssembler:
    """Feeds deserialised bag messages to the shared approximate-time synchroniser.

    Colour and depth are matched on their header stamps within ``slop`` seconds; CameraInfo is a
    static stream (its latest value joins every set). Without a depth topic (``topics.depth`` None,
    depth estimated from colour) every colour image makes a set with the latest CameraInfo and
    ``depth=None``. Each emitted set comes with the log time at which it became complete (the latest
    log time of its messages), used for the output topics.
    """

    def __init__(self, topics: BagTopics, slop: float = DEFAULT_SLOP_S, queue_size: int = DEFAULT_QUEUE) -> None:
        self.by_topic = {topics.rgb: "rgb", topics.info: "info"}
        if topics.depth is not None:
            self.by_topic[topics.depth] = "depth"
        self.topics = frozenset(self.by_topic)
        self.has_depth = topics.depth is not None
        streams = ["rgb", "depth"] if self.has_depth else ["rgb"]
        self.sync = ApproximateTimeSynchronizer(streams, queue_size=queue_size, slop=slop, static=["info"])

    def add(self, topic: str, log_time: int, msg: Any) -> list[tuple[SyncedMessages, int]]:
        name = self.by_topic[topic]
        stamp = 0 if name == "info" else msg.header.stamp
        out = []
        for match in self.sync.add(name, stamp, (log_time, msg)):
            t_depth, depth = match["depth"] if self.has_depth else (0, None)
            (t_rgb, rgb), (t_info, info) = match["rgb"], match["info"]
            out.append((SyncedMessages(rgb, depth, info), max(t_rgb, t_depth, t_info)))
        return out

    @property
    def dropped(self) -> dict[str, int]:
        return dict(self.sync.dropped)


def make_pipeline(settings: "AnnotationSettings", pair: tuple[str, str]) -> "RewardPipeline":
    """The live reward node's per-frame pipeline, owning its tracker (prompted on the first frame)."""
    from rgpt_ros.reward.pipeline import RewardPipeline

    return RewardPipeline(pair=pair, config=settings.reward, metric=settings.metric, up=settings.up_vector,
                          track=True, tracker_config=settings.tracker)
