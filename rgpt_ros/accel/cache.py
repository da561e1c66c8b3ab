"""Where exported ONNX files, TensorRT engines and timing caches live, and the keys that name them.

An engine is only valid for the exact weights, input shapes, precision, GPU model and TensorRT version
it was built with, so all of those go into its key; an ONNX file depends on weights, shapes, opset and dtype.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

from rgpt_ros.accel.parts import ModelPart

CACHE_ENV = "RGPT_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$RGPT_CACHE_DIR`` or ``~/.cache/rgpt_ros/accel``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "rgpt_ros" / "accel"


def safe_name(text: str) -> str:
    """A file-name-safe version of ``text`` (model names may be hub ids with slashes)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "model"


def gpu_name(device_id: int = 0) -> str:
    """The CUDA device's name and compute capability (``"cpu"`` without CUDA)."""
    import torch

    if not torch.cuda.is_available():
        return "cpu"
    major, minor = torch.cuda.get_device_capability(device_id)
    return f"{torch.cuda.get_device_name(device_id)} sm{major}{minor}"


def tensorrt_version() -> Optional[str]:
    """The installed TensorRT Python package's version, or None."""
    try:
        import tensorrt  # type: ignore[import-not-found]
    except ImportError:
        return None
    return str(tensorrt.__version__)


@dataclass(frozen=True)
class EngineKey:
    """Everything a TensorRT engine depends on."""

    part: str
    fingerprint: str
    shapes: str
    precision: str
    gpu: str
    trt_version: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:20]

    @property
    def stem(self) -> str:
        """``<part>-<digest>``: the engine is ``<stem>.engine``, its timing cache ``<stem>.timing``."""
        return f"{safe_name(self.part)}-{self.digest}"


def engine_key(part: ModelPart, *, precision: str = "fp16", gpu: Optional[str] = None,
               trt_version: Optional[str] = None, device_id: int = 0) -> EngineKey:
    """The :class:`EngineKey` of ``part`` on this machine (GPU / TensorRT detected unless given)."""
    return EngineKey(part=part.name, fingerprint=part.fingerprint, shapes=part.shape_key, precision=precision,
                     gpu=gpu if gpu is not None else gpu_name(device_id),
                     trt_version=trt_version if trt_version is not None else (tensorrt_version() or "none"))


@dataclass(frozen=True)
class EnginePaths:
    engine: Path
    timing_cache: Path
    info: Path


def engine_paths(key: EngineKey, cache_dir: Optional[Path] = None) -> EnginePaths:
    """Files of one native TensorRT engine under ``<cache>/tensorrt``."""
    folder = Path(cache_dir or default_cache_dir()) / "tensorrt"
    return EnginePaths(engine=folder / f"{key.stem}.engine", timing_cache=folder / f"{key.stem}.timing",
                       info=folder / f"{key.stem}.json")


def onnx_path(part: ModelPart, *, opset: int, dtype: str, cache_dir: Optional[Path] = None) -> Path:
    """Cached ONNX file of ``part`` exported at ``opset`` in ``dtype``."""
    digest = hashlib.sha256(f"{part.fingerprint}|{part.shape_key}|{opset}|{dtype}".encode()).hexdigest()[:20]
    return Path(cache_dir or default_cache_dir()) / "onnx" / f"{safe_name(part.name)}-{dtype}-{digest}.onnx"


def ort_trt_cache_dir(key: EngineKey, cache_dir: Optional[Path] = None) -> Path:
    """Engine + timing cache folder of ONNX Runtime's TensorRT execution provider for this key."""
    return Path(cache_dir or default_cache_dir()) / "ort_trt" / key.stem
