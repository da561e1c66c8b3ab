"""Model acceleration: static-shape ONNX export and TensorRT / ONNX Runtime / PyTorch runtimes behind one
:class:`Runner` interface (``runner.run({name: array}) -> {name: tensor}``, ``runner.provider``).

Heavy imports (onnx, onnxruntime, tensorrt) happen only when a runtime is built.
"""

from rgpt_ros.accel.cache import EngineKey, default_cache_dir, engine_key, gpu_name, tensorrt_version
from rgpt_ros.accel.export import ExportError, ensure_onnx, export_onnx
from rgpt_ros.accel.parity import PARITY_BOUNDS, ParityError, check_parity, parity_errors, relative_error
from rgpt_ros.accel.parts import (ModelPart, TensorSpec, depth_model_part, module_fingerprint, siglip_features_part,
                                   vision_encoder_part)
from rgpt_ros.accel.runner import Runner, RunnerInputError, RuntimeUnavailableError
from rgpt_ros.accel.select import AUTO_ORDER, BACKENDS, backend_order, build_runner, select_runner, unavailable_reason
from rgpt_ros.accel.vision import AcceleratedVisionEncoder

__all__ = [
    "AUTO_ORDER", "AcceleratedVisionEncoder", "BACKENDS", "EngineKey", "ExportError", "ModelPart", "PARITY_BOUNDS",
    "ParityError", "Runner", "RunnerInputError", "RuntimeUnavailableError", "TensorSpec", "backend_order",
    "build_runner", "check_parity", "default_cache_dir", "depth_model_part", "engine_key", "ensure_onnx",
    "export_onnx", "gpu_name", "module_fingerprint", "parity_errors", "relative_error", "select_runner",
    "siglip_features_part", "tensorrt_version", "unavailable_reason", "vision_encoder_part",
]
