"""Pick the fastest runtime that works here for a :class:`~rgpt_ros.accel.parts.ModelPart`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import torch

from rgpt_ros.accel.cache import default_cache_dir, engine_key, engine_paths, ort_trt_cache_dir, tensorrt_version
from rgpt_ros.accel.export import DEFAULT_OPSET, ensure_onnx
from rgpt_ros.accel.ort_runner import CPU_EP, CUDA_EP, TRT_EP, OrtRunner, available_providers
from rgpt_ros.accel.parts import ModelPart, torch_dtype
from rgpt_ros.accel.runner import Runner, RuntimeUnavailableError
from rgpt_ros.accel.torch_runner import TorchRunner

log = logging.getLogger(__name__)

BACKENDS = ("tensorrt", "ort-tensorrt", "ort-cuda", "torch-cuda-graph", "torch-compile", "ort-cpu", "torch-eager")
# "auto": native TensorRT, then ORT's TensorRT and CUDA providers, CUDA graphs, then the CPU paths.
AUTO_ORDER = ("tensorrt", "ort-tensorrt", "ort-cuda", "torch-cuda-graph", "ort-cpu", "torch-eager")
_ORT_FIRST = {"ort-tensorrt": TRT_EP, "ort-cuda": CUDA_EP, "ort-cpu": CPU_EP}


def backend_order(preference: Union[str, Sequence[str]] = "auto") -> tuple[str, ...]:
    """``"auto"`` -> :data:`AUTO_ORDER`; a name or list of names is validated and kept in order."""
    names = [preference] if isinstance(preference, str) else list(preference)
    order: list[str] = []
    for name in names:
        for item in (AUTO_ORDER if name == "auto" else (name,)):
            if item not in BACKENDS:
                raise ValueError(f"unknown backend {item!r}; expected 'auto' or one of {BACKENDS}")
            if item not in order:
                order.append(item)
    return tuple(order)


def unavailable_reason(backend: str, *, cuda: Optional[bool] = None, providers: Optional[Sequence[str]] = None,
                       trt_version: Optional[str] = "detect") -> Optional[str]:
    """Why ``backend`` cannot run here, or None when it can (arguments override detection, for tests)."""
    cuda = torch.cuda.is_available() if cuda is None else cuda
    providers = available_providers() if providers is None else list(providers)
    trt_version = tensorrt_version() if trt_version == "detect" else trt_version
    if backend == "tensorrt":
        if trt_version is None:
            return "the tensorrt package is not installed"
        return None if cuda else "no CUDA device"
    if backend in _ORT_FIRST:
        if not providers:
            return "onnxruntime is not installed"
        return None if _ORT_FIRST[backend] in providers else f"onnxruntime has no {_ORT_FIRST[backend]}"
    if backend == "torch-cuda-graph":
        return None if cuda else "no CUDA device"
    return None


def build_runner(part: ModelPart, backend: str, *, cache_dir: Optional[Path] = None, fp16: bool = True,
                 device_id: int = 0, opset: int = DEFAULT_OPSET, strict: bool = True,
                 progress: Optional[Callable[[str], None]] = None) -> Runner:
    """Make the runner of one named backend (exporting / building engines into ``cache_dir`` as needed)."""
    cache_dir = Path(cache_dir or default_cache_dir())
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; expected one of {BACKENDS}")
    reason = unavailable_reason(backend)
    if reason:
        raise RuntimeUnavailableError(f"{backend}: {reason}")
    if backend.startswith("torch-"):
        return TorchRunner(part, mode=backend[len("torch-"):].replace("-", "_"))
    if backend == "tensorrt":
        from rgpt_ros.accel.tensorrt_engine import TensorRTRunner, build_engine, plan_build

        plan = plan_build(tensorrt_version() or "", fp16=fp16)
        paths = engine_paths(engine_key(part, precision=plan.precision, device_id=device_id), cache_dir)
        if not paths.engine.is_file():
            onnx_file = ensure_onnx(part, cache_dir=cache_dir, opset=opset, dtype=torch_dtype(plan.onnx_dtype))
            build_engine(onnx_file, paths, plan, progress=progress)
        return TensorRTRunner(part, paths.engine, device_id=device_id)
    first = _ORT_FIRST[backend]
    # The CUDA EP runs the graph in its own types, so fp16 needs an fp16 graph; the TensorRT EP takes fp32
    # and picks fp16 kernels itself (trt_fp16_enable); the CPU EP stays fp32.
    onnx_dtype = torch.float16 if fp16 and first == CUDA_EP else torch.float32
    onnx_file = ensure_onnx(part, cache_dir=cache_dir, opset=opset, dtype=onnx_dtype)
    trt_cache = ort_trt_cache_dir(engine_key(part, precision="fp16" if fp16 else "fp32", device_id=device_id),
                                  cache_dir)
    if first == TRT_EP and progress:
        progress(f"ONNX Runtime TensorRT EP builds its engine for {part.name} on first run (minutes)")
    return OrtRunner(part, onnx_file, first, cache_dir=trt_cache, fp16=fp16, device_id=device_id, strict=strict)


def select_runner(part: ModelPart, preference: Union[str, Sequence[str]] = "auto", *,
                  cache_dir: Optional[Path] = None, fp16: bool = True, device_id: int = 0,
                  opset: int = DEFAULT_OPSET, strict: bool = False,
                  progress: Optional[Callable[[str], None]] = None) -> Runner:
    """The first backend of ``preference`` that is available and builds; logs why others were skipped.

    ``strict`` raises on the first failure instead of falling through (use it to require a backend).
    """
    problems = []
    for backend in backend_order(preference):
        try:
            runner = build_runner(part, backend, cache_dir=cache_dir, fp16=fp16, device_id=device_id, opset=opset,
                                  strict=True, progress=progress)
        except (RuntimeUnavailableError, RuntimeError, OSError) as err:
            if strict:
                raise
            problems.append(f"{backend}: {err}")
            level = logging.INFO if isinstance(err, RuntimeUnavailableError) else logging.WARNING
            log.log(level, "%s: skipping %s (%s)", part.name, backend, err)
            continue
        log.info("%s: running on %s", part.name, runner.provider)
        return runner
    raise RuntimeUnavailableError(f"no backend of {list(backend_order(preference))} works for {part.name}: "
                                  + "; ".join(problems))
