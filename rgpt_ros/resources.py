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


_PROFILE_VARIABLES = ("FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE")
_FASTDDS_RMWS = ("", "rmw_fastrtps_cpp", "rmw_fastrtps_dynamic_cpp")


def use_large_image_dds_profile() -> Optional[Path]:
    """Point Fast DDS at the bundled large-image profile unless the user chose one (call before rclpy.init)."""
    if any(name in os.environ for name in _PROFILE_VARIABLES):
        return None
    profile = package_config(DDS_PROFILE)
    if profile is not None:
        os.environ["FASTDDS_DEFAULT_PROFILES_FILE"] = str(profile)
    return profile


def dds_profile_hint() -> Optional[str]:
    """A start-up warning for nodes on Fast DDS without a profile (None when one is set or another DDS is used).

    Fast DDS's default shared-memory segment (512 KiB) cannot hold a 640x480 rgb8 image (900 KiB): such
    images fall back to fragmented UDP and most are lost between processes, silently.
    """
    if any(name in os.environ for name in _PROFILE_VARIABLES):
        return None
    if os.environ.get("RMW_IMPLEMENTATION", "") not in _FASTDDS_RMWS:
        return None
    profile = package_config(DDS_PROFILE)
    where = str(profile) if profile else f"$(ros2 pkg prefix rgpt_ros)/share/rgpt_ros/config/{DDS_PROFILE}"
    return ("Fast DDS runs with its default 512 KiB shared-memory segment: images larger than that "
            "(640x480 rgb8 is 900 KiB) are mostly lost between processes. For every process on this machine "
            f"(camera driver included): export FASTDDS_DEFAULT_PROFILES_FILE={where}")
