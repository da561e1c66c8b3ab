"""Find and load a Depth Anything (V1 or V2, relative or metric) checkpoint from a folder or a hub id."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Optional, Union

import torch

log = logging.getLogger(__name__)

DEPTH_MODEL_TYPES = ("depth_anything",)


class DepthModelError(ValueError):
    """A depth checkpoint that cannot be used (base class)."""


class DepthModelNotFoundError(DepthModelError):
    """The checkpoint folder or hub id could not be found (locally, or on the hub when online)."""


class UnsupportedDepthModelError(DepthModelError):
    """The checkpoint exists but is not a Depth Anything model."""


def hub_offline() -> bool:
    """True when the Hugging Face offline switches are set (``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE``)."""
    truthy = {"1", "true", "yes", "on"}
    return any(os.environ.get(k, "").strip().lower() in truthy for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _looks_like_path(path_or_id: str) -> bool:
    return path_or_id.startswith(("/", "./", "../", "~")) or os.sep + os.sep in path_or_id or path_or_id.count("/") > 1


def resolve_source(path_or_id: Union[str, Path], local_files_only: Optional[bool] = None) -> tuple[str, bool]:
    """Return ``(source, local_files_only)`` for ``from_pretrained``; raise when a local folder is missing."""
    text = str(path_or_id).strip()
    if not text:
        raise DepthModelNotFoundError("empty depth model path or hub id")
    expanded = Path(text).expanduser()
    if expanded.is_dir():
        if not (expanded / "config.json").is_file():
            raise DepthModelNotFoundError(f"depth model folder {str(expanded)!r} has no config.json")
        return str(expanded), True
    if isinstance(path_or_id, Path) or expanded.exists() or _looks_like_path(text):
        raise DepthModelNotFoundError(f"depth model folder {text!r} does not exist")
    offline = hub_offline() if local_files_only is None else bool(local_files_only)
    return text, offline


def _not_found(source: str, offline: bool, err: Exception) -> DepthModelNotFoundError:
    where = ("is not in the local Hugging Face cache and offline mode is on (HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE "
             "or local_files_only); download it on a connected machine or pass a local folder"
             if offline else "could not be fetched from the Hugging Face hub")
    return DepthModelNotFoundError(f"depth model {source!r} {where}: {err}")


def load_depth_model(path_or_id: Union[str, Path], *, local_files_only: Optional[bool] = None,
                     revision: Optional[str] = None, cache_dir: Optional[str] = None,
                     dtype: torch.dtype = torch.float32):
    """Load ``(model, image_processor)``; the processor falls back to Depth Anything's standard one if absent."""
    from transformers import AutoConfig, AutoImageProcessor, AutoModelForDepthEstimation

    source, offline = resolve_source(path_or_id, local_files_only)
    kwargs = dict(local_files_only=offline, revision=revision, cache_dir=cache_dir)
    local = Path(source).is_dir()
    try:
        config = AutoConfig.from_pretrained(source, **kwargs)
    except Exception as err:  # OSError, ValueError, huggingface_hub's strict-dataclass validation errors
        if local:
            raise DepthModelError(f"cannot read the depth model config in {source!r}: {err}") from err
        raise _not_found(source, offline, err) from err
    if config.model_type not in DEPTH_MODEL_TYPES:
        raise UnsupportedDepthModelError(
            f"{source!r} is a {config.model_type!r} model; expected one of {DEPTH_MODEL_TYPES} (Depth Anything V1/V2)")
    model = AutoModelForDepthEstimation.from_pretrained(source, dtype=dtype, **kwargs).eval()
    try:
        processor = AutoImageProcessor.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as err:
        from rgpt_ros.depth.configs import depth_image_processor

        log.warning("no image processor config for %s (%s); using Depth Anything's standard preprocessing",
                    source, err)
        processor = depth_image_processor()
    return model, processor
