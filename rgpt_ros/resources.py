"""Locate the package's data files (``config/``) in a source checkout, a colcon install or a pip install."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

DDS_PROFILE = "fastdds_large_images.xml"


def package_config(name: str) -> Optional[Path]:
    """``config/<name>`` of rgpt_ros: checkout, then ``share/rgpt_ros/config`` of AMENT_PREFIX_PATH, then pip data."""
    candidates = [Path(__file__).resolve().parents[1] / "config" / name]
    candidates += [Path(p) / "share" / "rgpt_ros" / "config" / name
                   for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    candidates.append(Path(sys.prefix) / "share" / "rgpt_ros" / "config" / name)
    return next((p for p in candidates if p.is_file()), None)


def use_large_image_dds_profile() -> Optional[Path]:
    """Point Fast DDS at the bundled large-image profile unless the user chose one (call before rclpy.init)."""
    if "FASTDDS_DEFAULT_PROFILES_FILE" in os.environ or "FASTRTPS_DEFAULT_PROFILES_FILE" in os.environ:
        return None
    profile = package_config(DDS_PROFILE)
    if profile is not None:
        os.environ["FASTDDS_DEFAULT_PROFILES_FILE"] = str(profile)
    return profile
