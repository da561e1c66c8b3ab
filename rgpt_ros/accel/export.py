"""ONNX export of a :class:`~rgpt_ros.accel.parts.ModelPart` with static shapes (opset >= 17)."""

from __future__ import annotations

import copy
import json
import logging
import warnings
from pathlib import Path
from typing import Optional

import torch

from rgpt_ros.accel.cache import onnx_path as cached_onnx_path
from rgpt_ros.accel.parts import ModelPart, dtype_name

log = logging.getLogger(__name__)

MIN_OPSET = 17
DEFAULT_OPSET = 17


class ExportError(RuntimeError):
    """ONNX export or its check failed."""


def export_onnx(part: ModelPart, path: Path | str, *, opset: int = DEFAULT_OPSET,
                dtype: Optional[torch.dtype] = None) -> Path:
    """Export ``part`` to ``path`` with every input shape fixed; returns the path.

    ``dtype`` (e.g. ``torch.float16`` for strongly typed TensorRT 11 builds) exports a converted copy; the
    part's own module is left untouched. A ``<path>.json`` sidecar records names, shapes and fingerprint.
    """
    if opset < MIN_OPSET:
        raise ValueError(f"opset {opset} is too old: LayerNormalization and friends need opset >= {MIN_OPSET}")
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    module = part.module
    if dtype is not None and dtype != part.dtype:
        module = copy.deepcopy(module).to(dtype)
    module = module.eval()
    inputs = part.example_inputs(device=next(module.parameters()).device, dtype=dtype or part.dtype)
    tmp = path.with_suffix(".partial.onnx")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about python ints: shapes are static by design
        torch.onnx.export(module, tuple(inputs.values()), str(tmp), input_names=list(part.input_names),
                          output_names=list(part.output_names), opset_version=opset, do_constant_folding=True,
                          dynamo=False)
    try:
        onnx.checker.check_model(str(tmp))
    except Exception as err:  # onnx raises its own ValidationError family
        raise ExportError(f"exported ONNX of {part.name!r} failed onnx.checker: {err}") from err
    tmp.replace(path)
    meta = {"part": part.name, "fingerprint": part.fingerprint, "opset": opset,
            "dtype": dtype_name(dtype or part.dtype), "inputs": [[s.name, list(s.shape)] for s in part.inputs],
            "outputs": list(part.output_names), "torch": torch.__version__}
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1))
    log.info("exported %s to %s (opset %d, %s)", part.name, path, opset, meta["dtype"])
    return path


def ensure_onnx(part: ModelPart, *, cache_dir: Optional[Path] = None, opset: int = DEFAULT_OPSET,
                dtype: Optional[torch.dtype] = None) -> Path:
    """The cached ONNX file of ``part`` (exported on first use)."""
    path = cached_onnx_path(part, opset=opset, dtype=dtype_name(dtype or part.dtype), cache_dir=cache_dir)
    if path.is_file():
        return path
    return export_onnx(part, path, opset=opset, dtype=dtype)
