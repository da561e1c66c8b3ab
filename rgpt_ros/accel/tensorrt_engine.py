"""Native TensorRT: build a serialized engine from ONNX (TensorRT 10 and 11 builder APIs) and run it.

TensorRT 10 is weakly typed: an fp32 ONNX + ``BuilderFlag.FP16`` lets the builder pick fp16 kernels.
TensorRT 11 removed the precision flags (strong typing always on): fp16 comes from an fp16 ONNX, so
:func:`plan_build` asks the exporter for ``float16`` there. EXPLICIT_BATCH is only set before 10.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Optional

import torch

from rgpt_ros.accel.cache import EnginePaths
from rgpt_ros.accel.parts import ModelPart
from rgpt_ros.accel.runner import ArrayLike, Runner, RuntimeUnavailableError, as_torch

log = logging.getLogger(__name__)

ProgressFn = Callable[[str], None]


class EngineBuildError(RuntimeError):
    """TensorRT could not parse the ONNX file or build the engine."""


@dataclass(frozen=True)
class BuildPlan:
    """How to drive one TensorRT major version's builder."""

    trt_major: int
    network_flags: tuple[str, ...]   # NetworkDefinitionCreationFlag member names
    builder_flags: tuple[str, ...]   # BuilderFlag member names
    onnx_dtype: str                  # dtype the ONNX must be exported in

    @property
    def precision(self) -> str:
        return "fp16" if "FP16" in self.builder_flags or self.onnx_dtype == "float16" else "fp32"


def trt_major(version: str) -> int:
    """``"10.13.0.35"`` -> 10 (ValueError for unparsable versions)."""
    try:
        return int(str(version).split(".")[0])
    except ValueError as err:
        raise ValueError(f"cannot read a TensorRT major version from {version!r}") from err


def plan_build(trt_version: str, *, fp16: bool = True) -> BuildPlan:
    """The flags and ONNX dtype for ``trt_version`` (8/9: EXPLICIT_BATCH; 10: FP16 flag; 11+: fp16 ONNX)."""
    major = trt_major(trt_version)
    if major < 8:
        raise ValueError(f"TensorRT {trt_version} is too old (8 or newer needed)")
    if major >= 11:
        return BuildPlan(major, (), (), "float16" if fp16 else "float32")
    network = ("EXPLICIT_BATCH",) if major < 10 else ()
    return BuildPlan(major, network, ("FP16",) if fp16 else (), "float32")


def import_tensorrt():
    """``import tensorrt`` or :class:`RuntimeUnavailableError` with the install hint."""
    try:
        import tensorrt as trt  # type: ignore[import-not-found]
    except ImportError as err:
        raise RuntimeUnavailableError("TensorRT is not installed (pip install tensorrt, or JetPack on Jetson)") from err
    if not torch.cuda.is_available():
        raise RuntimeUnavailableError("TensorRT needs a CUDA device; torch sees none")
    return trt


def _progress_monitor(trt, report: ProgressFn):
    """A ``trt.IProgressMonitor`` forwarding phase starts/ends to ``report`` (TensorRT >= 10)."""
    base = getattr(trt, "IProgressMonitor", None)
    if base is None:
        return None

    class Monitor(base):  # type: ignore[misc, valid-type]
        def __init__(self):
            base.__init__(self)
            self._started: dict[str, float] = {}

        def phase_start(self, phase_name, parent_phase, num_steps):
            self._started[phase_name] = time.monotonic()
            report(f"  {'  ' if parent_phase else ''}{phase_name} ({num_steps} steps)")

        def step_complete(self, phase_name, step):
            return True  # keep building

        def phase_finish(self, phase_name):
            spent = time.monotonic() - self._started.pop(phase_name, time.monotonic())
            report(f"  {phase_name} done in {spent:.1f} s")

    return Monitor()


def build_engine(onnx_file: Path, paths: EnginePaths, plan: BuildPlan, *, workspace_bytes: int = 4 << 30,
                 progress: Optional[ProgressFn] = None) -> Path:
    """Build and serialize an engine; the timing cache is loaded from / saved to ``paths.timing_cache``."""
    trt = import_tensorrt()
    report = progress or (lambda text: log.info("%s", text))
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    flags = 0
    for name in plan.network_flags:
        flags |= 1 << int(getattr(trt.NetworkDefinitionCreationFlag, name))
    network = builder.create_network(flags)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse_from_file(str(onnx_file)):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise EngineBuildError(f"TensorRT could not parse {onnx_file}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_bytes))
    for name in plan.builder_flags:
        config.set_flag(getattr(trt.BuilderFlag, name))
    timing_bytes = paths.timing_cache.read_bytes() if paths.timing_cache.is_file() else b""
    timing_cache = config.create_timing_cache(timing_bytes)
    config.set_timing_cache(timing_cache, ignore_mismatch=False)
    monitor = _progress_monitor(trt, report)
    if monitor is not None:
        config.progress_monitor = monitor
    report(f"building TensorRT {trt.__version__} engine from {onnx_file.name} ({plan.precision}); "
           "the first build takes minutes")
    started = time.monotonic()
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise EngineBuildError(f"TensorRT failed to build an engine from {onnx_file} (see the TensorRT log above)")
    paths.engine.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.engine.with_suffix(".partial")
    tmp.write_bytes(bytes(serialized))
    tmp.replace(paths.engine)
    paths.timing_cache.write_bytes(bytes(config.get_timing_cache().serialize()))
    paths.info.write_text(json.dumps({"onnx": str(onnx_file), "trt_version": trt.__version__,
                                      "precision": plan.precision, "build_s": round(time.monotonic() - started, 1)}))
    report(f"engine written to {paths.engine} in {time.monotonic() - started:.1f} s")
    return paths.engine


class TensorRTRunner(Runner):
    """A deserialized engine run with name-based I/O (``set_tensor_address`` + ``execute_async_v3``)."""

    provider = "tensorrt"

    def __init__(self, part: ModelPart, engine_file: Path, *, device_id: int = 0):
        trt = import_tensorrt()
        super().__init__(part)
        self.device = torch.device("cuda", device_id)
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        self.engine = self._runtime.deserialize_cuda_engine(Path(engine_file).read_bytes())
        if self.engine is None:
            raise EngineBuildError(f"could not deserialize {engine_file} (built by another TensorRT or GPU?)")
        self.context = self.engine.create_execution_context()
        self._in: dict[str, torch.Tensor] = {}
        self._out: dict[str, torch.Tensor] = {}
        for i in range(self.engine.num_io_tensors):
            name = self.engine.get_tensor_name(i)
            shape = tuple(self.engine.get_tensor_shape(name))
            dtype = _torch_dtype(trt, self.engine.get_tensor_dtype(name))
            buffer = torch.empty(shape, dtype=dtype, device=self.device)
            is_input = self.engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT
            if is_input:
                self.context.set_input_shape(name, shape)
            (self._in if is_input else self._out)[name] = buffer
            self.context.set_tensor_address(name, buffer.data_ptr())
        missing = set(self.output_names) - set(self._out)
        if missing:
            raise EngineBuildError(f"engine {engine_file} lacks outputs {sorted(missing)}")
        self._stream = torch.cuda.Stream(self.device)

    def _run(self, inputs: Mapping[str, ArrayLike]) -> dict[str, torch.Tensor]:
        current = torch.cuda.current_stream(self.device)
        self._stream.wait_stream(current)
        with torch.cuda.stream(self._stream):
            for name, buffer in self._in.items():
                buffer.copy_(as_torch(inputs[name], self.device, buffer.dtype))
            if not self.context.execute_async_v3(self._stream.cuda_stream):
                raise EngineBuildError(f"{self.part_name}: TensorRT execution failed")
            outputs = {name: self._out[name].clone() for name in self.output_names}
        current.wait_stream(self._stream)
        return outputs


def _torch_dtype(trt, dtype) -> torch.dtype:
    table = {trt.float32: torch.float32, trt.float16: torch.float16, trt.int32: torch.int32, trt.bool: torch.bool}
    if hasattr(trt, "bfloat16"):
        table[trt.bfloat16] = torch.bfloat16
    if hasattr(trt, "int64"):
        table[trt.int64] = torch.int64
    if dtype not in table:
        raise EngineBuildError(f"unsupported TensorRT tensor dtype {dtype}")
    return table[dtype]
