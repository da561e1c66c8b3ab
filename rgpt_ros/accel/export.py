"""ONNX export of a :class:`~rgpt_ros.accel.parts.ModelPart` with static shapes (opset >= 17)."""

from __future__ import annotations

import copy
import json
import logging
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import torch

from rgpt_ros.accel.cache import onnx_path as cached_onnx_path
from rgpt_ros.accel.parts import ModelPart, dtype_name

log = logging.getLogger(__name__)

MIN_OPSET = 17
DEFAULT_OPSET = 18
EXPORTERS = ("auto", "dynamo", "legacy")
EXTERNAL_DATA_BYTES = 1_500_000_000  # weights beyond this go to a side file (ONNX protobufs stop at 2 GB)


class ExportError(RuntimeError):
    """ONNX export or its check failed."""


def dynamo_exporter_available() -> bool:
    """True when ``onnxscript`` imports (the ``torch.export``-based exporter needs it)."""
    try:
        import onnxscript  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def eager_attention(module: torch.nn.Module) -> Iterator[None]:
    """Temporarily switch every transformers sub-model to ``eager`` attention.

    The dynamo exporter decomposes SDPA with NaN guards (IsNaN + Where around every softmax) that cost
    ONNX Runtime a quarter of a ViT's time; eager attention exports as plain MatMul + Softmax.
    """
    from transformers import PreTrainedModel

    changed = []
    for sub in module.modules():
        previous = getattr(getattr(sub, "config", None), "_attn_implementation", None)
        if isinstance(sub, PreTrainedModel) and previous not in (None, "eager"):
            try:
                sub.set_attn_implementation("eager")
            except (ValueError, ImportError):
                continue
            changed.append((sub, previous))
    try:
        yield
    finally:
        for sub, previous in reversed(changed):
            try:
                sub.set_attn_implementation(previous)
            except (ValueError, ImportError):
                log.warning("could not restore %s attention on %s", previous, type(sub).__name__)


def _export(module: torch.nn.Module, args: tuple, path: Path, part: ModelPart, opset: int, exporter: str,
            external: bool) -> None:
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer / deprecation chatter: shapes are static by design
        if exporter == "dynamo":
            with eager_attention(module):
                torch.onnx.export(module, args, str(path), input_names=list(part.input_names),
                                  output_names=list(part.output_names), opset_version=opset, dynamo=True,
                                  external_data=external, optimize=False, verbose=False)
            # optimize=False: onnxscript 0.7's graph optimizer turned an empty region's 0 / (0 + 1e-8) into
            # NaN; ONNX Runtime and TensorRT run their own graph optimisations anyway.
        else:
            torch.onnx.export(module, args, str(path), input_names=list(part.input_names),
                              output_names=list(part.output_names), opset_version=opset, do_constant_folding=True,
                              dynamo=False)


def export_onnx(part: ModelPart, path: Path | str, *, opset: int = DEFAULT_OPSET,
                dtype: Optional[torch.dtype] = None, exporter: str = "auto") -> Path:
    """Export ``part`` to ``path`` with every input shape fixed; returns the path.

    ``exporter``: ``legacy`` (TorchScript tracing, constant-folded: the fastest graphs on ONNX Runtime),
    ``dynamo`` (``torch.export``; follows shape arithmetic done in Python, needs onnxscript) or ``auto``
    (legacy, then dynamo when tracing fails, as for the SpatialRGPT vision encoder).
    ``dtype`` (e.g. ``torch.float16`` for strongly typed TensorRT 11 builds) exports a converted copy; the
    part's own module is left untouched. A ``<path>.json`` sidecar, written last, marks a complete export.
    """
    if opset < MIN_OPSET:
        raise ValueError(f"opset {opset} is too old: LayerNormalization and friends need opset >= {MIN_OPSET}")
    if exporter not in EXPORTERS:
        raise ValueError(f"unknown exporter {exporter!r}; expected one of {EXPORTERS}")
    import onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sidecar = path.with_suffix(".json")
    sidecar.unlink(missing_ok=True)
    module = part.module
    if dtype is not None and dtype != part.dtype:
        module = copy.deepcopy(module).to(dtype)
    module = module.eval()
    inputs = part.example_inputs(device=part.device, dtype=dtype or part.dtype)
    weight_bytes = sum(t.numel() * t.element_size() for t in module.state_dict().values())
    candidates = [exporter] if exporter != "auto" else ["legacy"] + ["dynamo"] * dynamo_exporter_available()
    failures = []
    for exporter in candidates:
        try:
            _export(module, tuple(inputs.values()), path, part, opset, exporter, weight_bytes > EXTERNAL_DATA_BYTES)
            onnx.checker.check_model(str(path))
            break
        except Exception as err:  # exporters and onnx.checker raise many unrelated types
            failures.append(f"{exporter}: {type(err).__name__}: {err}")
            log.info("%s export of %s failed (%s)", exporter, part.name, failures[-1].splitlines()[0])
    else:
        hint = "" if dynamo_exporter_available() else " (pip install onnxscript for the dynamo exporter)"
        raise ExportError(f"ONNX export of {part.name!r} failed: " + " | ".join(failures) + hint)
    meta = {"part": part.name, "fingerprint": part.fingerprint, "opset": opset, "exporter": exporter,
            "dtype": dtype_name(dtype or part.dtype), "inputs": [[s.name, list(s.shape)] for s in part.inputs],
            "outputs": list(part.output_names), "torch": torch.__version__}
    sidecar.write_text(json.dumps(meta, indent=1))
    log.info("exported %s to %s (%s exporter, opset %d, %s)", part.name, path, exporter, opset, meta["dtype"])
    return path


def ensure_onnx(part: ModelPart, *, cache_dir: Optional[Path] = None, opset: int = DEFAULT_OPSET,
                dtype: Optional[torch.dtype] = None, exporter: str = "auto") -> Path:
    """The cached ONNX file of ``part`` (exported on first use; complete once its ``.json`` sidecar exists)."""
    path = cached_onnx_path(part, opset=opset, dtype=dtype_name(dtype or part.dtype), cache_dir=cache_dir)
    if path.is_file() and path.with_suffix(".json").is_file():
        return path
    return export_onnx(part, path, opset=opset, dtype=dtype, exporter=exporter)
