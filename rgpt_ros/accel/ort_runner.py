"""ONNX Runtime: TensorRT execution provider -> CUDA -> CPU, with the provider that really runs asserted."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
import torch

from rgpt_ros.accel.parts import ModelPart, TensorSpec
from rgpt_ros.accel.runner import ArrayLike, Runner, RuntimeUnavailableError, as_numpy

log = logging.getLogger(__name__)

TRT_EP = "TensorrtExecutionProvider"
CUDA_EP = "CUDAExecutionProvider"
CPU_EP = "CPUExecutionProvider"
EP_ORDER = (TRT_EP, CUDA_EP, CPU_EP)
EP_ALIASES = {"tensorrt": TRT_EP, "trt": TRT_EP, "cuda": CUDA_EP, "cpu": CPU_EP}

_ORT_TYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
              "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(bool)": np.bool_}
_TORCH_OF = {np.float32: torch.float32, np.float16: torch.float16, np.float64: torch.float64, np.int64: torch.int64,
             np.int32: torch.int32, np.bool_: torch.bool}


class ProviderFallbackError(RuntimeUnavailableError):
    """ONNX Runtime silently dropped the requested execution provider."""


def profile_shapes(inputs: Sequence[TensorSpec]) -> str:
    """``"pixel_values:1x3x518x518,masks:1x4x384x384"`` (TensorRT EP profile notation)."""
    return ",".join(f"{s.name}:{s.dims()}" for s in inputs)


def tensorrt_ep_options(inputs: Sequence[TensorSpec], cache_dir: Path, *, fp16: bool = True, device_id: int = 0,
                        workspace_bytes: int = 4 << 30) -> dict:
    """TensorRT EP options: fp16, engine + timing caches in ``cache_dir``, one static optimisation profile."""
    shapes = profile_shapes(inputs)
    return {
        "device_id": device_id,
        "trt_fp16_enable": bool(fp16),
        "trt_max_workspace_size": int(workspace_bytes),
        "trt_engine_cache_enable": True,
        "trt_engine_cache_path": str(cache_dir),
        "trt_timing_cache_enable": True,
        "trt_timing_cache_path": str(cache_dir),
        "trt_profile_min_shapes": shapes,
        "trt_profile_opt_shapes": shapes,
        "trt_profile_max_shapes": shapes,
    }


def cuda_ep_options(device_id: int = 0) -> dict:
    """CUDA EP options: exhaustive cuDNN search (static shapes: searched once), default-stream copies."""
    return {"device_id": device_id, "cudnn_conv_algo_search": "EXHAUSTIVE", "do_copy_in_default_stream": True}


def provider_chain(first: str, *, available: Sequence[str], inputs: Sequence[TensorSpec], cache_dir: Path,
                   fp16: bool = True, device_id: int = 0) -> list[tuple[str, dict]]:
    """Providers from ``first`` down the TensorRT -> CUDA -> CPU order, keeping only ``available`` ones.

    Raises :class:`RuntimeUnavailableError` when ``first`` itself is not available.
    """
    first = EP_ALIASES.get(first, first)
    if first not in EP_ORDER:
        raise ValueError(f"unknown execution provider {first!r}; expected one of {EP_ORDER} or {sorted(EP_ALIASES)}")
    if first not in available:
        raise RuntimeUnavailableError(f"ONNX Runtime has no {first} here (available: {list(available)}); "
                                      "install onnxruntime-gpu (and TensorRT for the TensorRT EP)")
    options = {TRT_EP: lambda: tensorrt_ep_options(inputs, cache_dir, fp16=fp16, device_id=device_id),
               CUDA_EP: lambda: cuda_ep_options(device_id), CPU_EP: dict}
    chain = EP_ORDER[EP_ORDER.index(first):]
    return [(name, options[name]()) for name in chain if name in available]


def available_providers() -> list[str]:
    """ONNX Runtime's available providers ([] when onnxruntime is not installed)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return []
    return list(ort.get_available_providers())


class OrtRunner(Runner):
    """An ``onnxruntime.InferenceSession`` on the chain starting at ``first_provider``.

    After the session is made, the provider list it actually registered is checked: when ONNX Runtime
    dropped ``first_provider`` (e.g. TensorRT libraries missing) ``strict`` raises
    :class:`ProviderFallbackError`, otherwise the fallback is logged and reported in ``provider``.
    """

    def __init__(self, part: ModelPart, onnx_file: Path | str, first_provider: str = CPU_EP, *,
                 cache_dir: Optional[Path] = None, fp16: bool = True, device_id: int = 0, strict: bool = True,
                 intra_op_threads: int = 0, log_severity: int = 3):
        import onnxruntime as ort

        super().__init__(part)
        cache_dir = Path(cache_dir or Path(onnx_file).parent / "ort_trt")
        chain = provider_chain(first_provider, available=ort.get_available_providers(), inputs=part.inputs,
                               cache_dir=cache_dir, fp16=fp16, device_id=device_id)
        if chain[0][0] == TRT_EP:
            cache_dir.mkdir(parents=True, exist_ok=True)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = intra_op_threads
        options.log_severity_level = log_severity  # 3 = errors: provider fallbacks are detected below instead
        self.session = ort.InferenceSession(str(onnx_file), sess_options=options,
                                            providers=[name for name, _ in chain],
                                            provider_options=[opts for _, opts in chain])
        self.requested = chain[0][0]
        active = self.session.get_providers()
        if self.requested not in active:
            message = (f"{part.name}: ONNX Runtime dropped {self.requested} (active: {active}); "
                       "check the CUDA/TensorRT libraries")
            if strict:
                raise ProviderFallbackError(message)
            log.warning(message)
        self.provider = f"ort:{next(name for name in active if name in EP_ORDER)}"
        log.info("%s runs on ONNX Runtime %s (registered: %s)", part.name, self.provider, active)
        self.device_id = device_id
        self._types = {i.name: _ORT_TYPES.get(i.type, np.float32) for i in self.session.get_inputs()}
        static_outputs = all(isinstance(d, int) for o in self.session.get_outputs() for d in o.shape)
        self._on_gpu = self.provider != f"ort:{CPU_EP}" and torch.cuda.is_available() and static_outputs

    def _run(self, inputs: Mapping[str, ArrayLike]) -> dict[str, torch.Tensor]:
        if self._on_gpu and all(isinstance(v, torch.Tensor) and v.is_cuda for v in inputs.values()):
            return self._run_bound(inputs)
        feed = {name: as_numpy(inputs[name], self._types[name]) for name in self.input_names}
        values = self.session.run(list(self.output_names), feed)
        return {name: torch.from_numpy(value) for name, value in zip(self.output_names, values)}

    def _run_bound(self, inputs: Mapping[str, ArrayLike]) -> dict[str, torch.Tensor]:
        """Device-resident run through IO binding into preallocated torch outputs (no host copies)."""
        binding = self.session.io_binding()
        keep = []
        for name in self.input_names:
            tensor = inputs[name].to(_TORCH_OF[self._types[name]]).contiguous()
            keep.append(tensor)
            binding.bind_input(name=name, device_type="cuda", device_id=self.device_id,
                               element_type=self._types[name], shape=tuple(tensor.shape),
                               buffer_ptr=tensor.data_ptr())
        outputs = {}
        for meta in self.session.get_outputs():
            element = _ORT_TYPES.get(meta.type, np.float32)
            out = torch.empty(tuple(meta.shape), dtype=_TORCH_OF[element], device=f"cuda:{self.device_id}")
            binding.bind_output(name=meta.name, device_type="cuda", device_id=self.device_id, element_type=element,
                                shape=tuple(out.shape), buffer_ptr=out.data_ptr())
            outputs[meta.name] = out
        torch.cuda.current_stream().synchronize()  # inputs are written on torch's stream, ORT runs on its own
        self.session.run_with_iobinding(binding)
        return {name: outputs[name] for name in self.output_names}
