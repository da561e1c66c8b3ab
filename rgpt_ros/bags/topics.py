"""Finding the colour, depth, CameraInfo and region topics of a bag (or checking the ones given)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from rgpt_ros.bags.errors import TopicDetectionError
from rgpt_ros.bags.messages import CAMERA_INFO, IMAGE
from rgpt_ros.bags.reader import BagReader
from rgpt_ros.bags.typestore import REGION_ARRAY

COLOUR_ENCODINGS = frozenset({"rgb8", "bgr8", "rgba8", "bgra8", "rgb16", "bgr16", "rgba16", "bgra16", "8UC3", "8UC4",
                              "yuv422", "uyvy", "yuv422_yuy2", "yuyv"})
DEPTH_ENCODINGS = frozenset({"16UC1", "32FC1"})
_REGISTERED_HINTS = ("aligned", "registered")


@dataclass(frozen=True)
class ImageTopicInfo:
    topic: str
    encoding: str
    width: int
    height: int


@dataclass(frozen=True)
class BagTopics:
    """The topics annotation reads; ``regions`` is None when the bag has no RegionArray topic, ``depth`` is None
    when the bag has no depth and depth is estimated from colour instead (``detect_topics(depth_optional=True)``)."""

    rgb: str
    depth: Optional[str]
    info: str
    regions: Optional[str] = None


def _namespace(topic: str) -> str:
    return topic.rsplit("/", 1)[0]


def peek_images(reader: BagReader, topics: list[str]) -> dict[str, ImageTopicInfo]:
    """Encoding and size of the first message of each Image topic."""
    found: dict[str, ImageTopicInfo] = {}
    for conn, _, raw in reader.messages(topics):
        if conn.topic not in found:
            msg = reader.deserialize(raw, conn.msgtype)
            found[conn.topic] = ImageTopicInfo(conn.topic, str(msg.encoding), int(msg.width), int(msg.height))
            if len(found) == len(set(topics)):
                break
    return found


def describe_topics(reader: BagReader, images: dict[str, ImageTopicInfo]) -> str:
    lines = []
    for conn in sorted(reader.connections, key=lambda c: c.topic):
        extra = ""
        if conn.topic in images:
            info = images[conn.topic]
            extra = f" ({info.encoding}, {info.width}x{info.height})"
        lines.append(f"  {conn.topic}  {conn.msgtype}{extra}")
    return "\n".join(lines) or "  (no topics)"


def detect_topics(reader: BagReader, rgb: Optional[str] = None, depth: Optional[str] = None,
                  info: Optional[str] = None, regions: Optional[str] = None, *,
                  depth_optional: bool = False) -> BagTopics:
    """Pick the topics (given ones are checked, missing ones detected); TopicDetectionError lists the bag's topics.

    ``depth_optional`` (a depth model stands in for the sensor): a bag without any depth image topic gives
    ``depth=None`` instead of an error; several ambiguous depth topics are still an error.
    """
    by_type: dict[str, list[str]] = {}
    for conn in reader.connections:
        by_type.setdefault(conn.msgtype, [])
        if conn.topic not in by_type[conn.msgtype]:
            by_type[conn.msgtype].append(conn.topic)
    image_topics = by_type.get(IMAGE, [])
    images = peek_images(reader, image_topics) if image_topics else {}

    def fail(problem: str) -> TopicDetectionError:
        return TopicDetectionError(f"bag {reader.name!r}: {problem}. Topics in the bag:\n"
                                   f"{describe_topics(reader, images)}")

    def check(topic: str, msgtype: str, role: str) -> str:
        if topic not in reader.topics():
            raise fail(f"{role} topic {topic!r} is not in the bag")
        if reader.topics()[topic] != msgtype:
            raise fail(f"{role} topic {topic!r} is {reader.topics()[topic]}, expected {msgtype}")
        return topic

    if rgb:
        check(rgb, IMAGE, "colour")
    else:
        colour = [t for t, i in images.items() if i.encoding in COLOUR_ENCODINGS]
        if len(colour) != 1:
            raise fail(f"{'no' if not colour else len(colour)} colour image topics "
                       f"{'found' if not colour else colour}; choose one with --rgb-topic")
        rgb = colour[0]
    rgb_info = images.get(rgb)

    if depth:
        check(depth, IMAGE, "depth")
    else:
        candidates = [t for t, i in images.items() if i.encoding in DEPTH_ENCODINGS and t != rgb]
        if rgb_info is not None and len(candidates) > 1:
            size = (rgb_info.width, rgb_info.height)
            same_size = [t for t in candidates if (images[t].width, images[t].height) == size]
            candidates = same_size or candidates
        if len(candidates) > 1:
            hinted = [t for t in candidates if any(h in t for h in _REGISTERED_HINTS)]
            candidates = hinted if len(hinted) == 1 else candidates
        if len(candidates) > 1 or not (candidates or depth_optional):
            raise fail(f"{'no' if not candidates else len(candidates)} depth image topics (16UC1/32FC1) "
                       f"{'found' if not candidates else candidates}; choose one with --depth-topic"
                       f"{'' if candidates else ' or estimate depth with --depth-model'}")
        depth = candidates[0] if candidates else None

    if info:
        check(info, CAMERA_INFO, "camera_info")
    else:
        infos = by_type.get(CAMERA_INFO, [])
        if len(infos) > 1:
            same_ns = [t for t in infos if _namespace(t) == _namespace(rgb)]
            infos = same_ns if len(same_ns) == 1 else infos
        if len(infos) != 1:
            raise fail(f"{'no' if not infos else len(infos)} CameraInfo topics {'found' if not infos else infos}; "
                       "choose one with --info-topic")
        info = infos[0]

    if regions:
        check(regions, REGION_ARRAY, "regions")
    else:
        region_topics = by_type.get(REGION_ARRAY, [])
        regions = region_topics[0] if len(region_topics) == 1 else None
    return BagTopics(rgb=rgb, depth=depth, info=info, regions=regions)
