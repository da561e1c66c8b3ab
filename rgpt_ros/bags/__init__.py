"""rosbag2 (sqlite3, MCAP) reading, writing, topic detection and offline annotation, without ROS.

Public API: :func:`annotate_bag`, :class:`AnnotationOptions`, :class:`AnnotationSummary`,
:class:`BagReader`, :class:`AtomicBagWriter`, :func:`detect_topics`, :func:`write_episode_bag`,
:func:`write_frames_bag`, :func:`rgpt_typestore`, errors :class:`BagError`, :class:`CorruptBagError`,
:class:`TopicDetectionError`. Many bags: :mod:`rgpt_ros.bags.batch` (processes) and
:mod:`rgpt_ros.bags.distributed` (Ray).
"""

from rgpt_ros.bags.annotate import AnnotationOptions, AnnotationSummary, annotate_bag
from rgpt_ros.bags.errors import BagError, CorruptBagError, TopicDetectionError
from rgpt_ros.bags.reader import BagReader
from rgpt_ros.bags.recording import write_episode_bag, write_frames_bag
from rgpt_ros.bags.topics import BagTopics, detect_topics
from rgpt_ros.bags.typestore import rgpt_typestore
from rgpt_ros.bags.writer import AtomicBagWriter

__all__ = ["AnnotationOptions", "AnnotationSummary", "AtomicBagWriter", "BagError", "BagReader", "BagTopics",
           "CorruptBagError", "TopicDetectionError", "annotate_bag", "detect_topics", "rgpt_typestore",
           "write_episode_bag", "write_frames_bag"]
