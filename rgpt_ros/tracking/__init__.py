"""Multi-region tracking (OpenCV LK median flow + template re-detection) with loss detection."""

from rgpt_ros.tracking.boxes import box_iou
from rgpt_ros.tracking.tracker import MultiRegionTracker, TrackerConfig

__all__ = ["MultiRegionTracker", "TrackerConfig", "box_iou"]
