"""Rewrite the build machine's Python paths baked into the ROS 2 wheels' CMake files.

The ros-python-wheels export CMake files that name /opt/python/cp311-cp311/... include dirs;
configure then fails with "includes non-existent path". Idempotent.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path

import numpy

BUILD_PY_INCLUDE = "/opt/python/cp311-cp311/include/python3.11"
BUILD_NUMPY_INCLUDE = "/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include"


def repair(prefix: Path) -> int:
    replacements = {
        BUILD_NUMPY_INCLUDE: numpy.get_include(),
        BUILD_PY_INCLUDE: sysconfig.get_paths()["include"],
    }
    changed = 0
    for path in (prefix / "share").rglob("*.cmake"):
        text = path.read_text(errors="surrogateescape")
        new = text
        for old, replacement in replacements.items():
            new = new.replace(old, replacement)
        if new != text:
            path.write_text(new, errors="surrogateescape")
            changed += 1
    return changed


if __name__ == "__main__":
    count = repair(Path(sys.argv[1] if len(sys.argv) > 1 else sys.prefix))
    print(f"  repaired {count} CMake file(s)")
