"""One Runner interface over PyTorch / ONNX Runtime / TensorRT, and runtime selection (real runtimes, CPU here)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rgpt_ros.accel import (RunnerInputError, RuntimeUnavailableError, build_runner, check_parity, depth_model_part,
                            select_runner)
from rgpt_ros.accel.ort_runner import CUDA_EP, OrtRunner, available_providers
from rgpt_ros.accel.torch_runner import TorchRunner
from rgpt_ros.depth.configs import random_depth_model


@pytest.fixture(scope="module")
def part():
    return depth_model_part(random_depth_model("tiny", metric=True, seed=5), (56, 70), name="runner")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("accel_cache")


@pytest.fixture(scope="module")
def reference(part):
    inputs = part.example_inputs(seed=7)
    with torch.no_grad():
        return inputs, part.outputs_as_dict(part.module(*inputs.values()))


def test_torch_eager_runner_takes_numpy_and_torch(part, reference):
    inputs, expected = reference
    runner = TorchRunner(part)
    assert runner.provider == "torch-eager" and runner.input_names == ("pixel_values",)
    for feed in ({"pixel_values": inputs["pixel_values"]}, {"pixel_values": inputs["pixel_values"].numpy()}):
        assert torch.equal(runner.run(feed)["predicted_depth"], expected["predicted_depth"])


def test_inputs_are_checked_by_name_and_static_shape(part):
    runner = TorchRunner(part)
    with pytest.raises(RunnerInputError, match="missing \\['pixel_values'\\]"):
        runner.run({"pixels": np.zeros((1, 3, 56, 70), np.float32)})
    with pytest.raises(RunnerInputError, match="'pixel_values' has shape \\(1, 3, 56, 56\\).*\\(1, 3, 56, 70\\)"):
        runner.run({"pixel_values": np.zeros((1, 3, 56, 56), np.float32)})


def test_torch_compile_runner(part, reference):
    inputs, expected = reference
    runner = TorchRunner(part, mode="compile", compile_backend="eager", warmup=1)  # dynamo capture, no C++ build
    assert runner.provider == "torch-compile"
    check_parity(expected, runner.run(inputs), "float32")


def test_cuda_graphs_need_cuda(part):
    if torch.cuda.is_available():
        pytest.skip("CPU-only check")
    with pytest.raises(RuntimeUnavailableError, match="CUDA"):
        TorchRunner(part, mode="cuda_graph")
    with pytest.raises(ValueError, match="'jit'"):
        TorchRunner(part, mode="jit")


def test_auto_selection_on_this_machine(part, reference, cache):
    inputs, expected = reference
    runner = select_runner(part, "auto", cache_dir=cache)
    if torch.cuda.is_available():
        assert runner.provider != "torch-eager"
    else:
        assert runner.provider == "ort:CPUExecutionProvider"  # ORT beats eager on CPU
        check_parity(expected, runner.run(inputs), "float32")


def test_selection_falls_through_unavailable_backends(part, cache):
    if torch.cuda.is_available():
        pytest.skip("CPU-only check")
    runner = select_runner(part, ["tensorrt", "ort-tensorrt", "ort-cuda", "torch-cuda-graph", "torch-eager"],
                           cache_dir=cache)
    assert runner.provider == "torch-eager"
    with pytest.raises(RuntimeUnavailableError, match="tensorrt"):
        select_runner(part, "tensorrt", cache_dir=cache, strict=True)
    with pytest.raises(RuntimeUnavailableError, match="no backend of \\['ort-cuda'\\].*CUDAExecutionProvider"):
        select_runner(part, "ort-cuda", cache_dir=cache)


def test_ort_refuses_a_provider_it_lacks(part, cache):
    if CUDA_EP in available_providers():
        pytest.skip("this onnxruntime has CUDA")
    from rgpt_ros.accel import ensure_onnx

    with pytest.raises(RuntimeUnavailableError, match="CUDAExecutionProvider"):
        OrtRunner(part, ensure_onnx(part, cache_dir=cache), "cuda")


# --- GPU paths: run only where their libraries and a GPU exist ----------------------------------------------

def test_ort_gpu_providers_parity(part, reference, cache):
    if CUDA_EP not in available_providers() or not torch.cuda.is_available():
        pytest.skip("needs onnxruntime-gpu and a CUDA device")
    inputs, expected = reference
    for backend in ("ort-cuda", "ort-tensorrt"):
        try:
            runner = build_runner(part, backend, cache_dir=cache)
        except RuntimeUnavailableError as err:
            pytest.skip(str(err))
        assert runner.provider.startswith("ort:") and runner.provider != "ort:CPUExecutionProvider"
        check_parity(expected, runner.run({k: v.cuda() for k, v in inputs.items()}), "float16")


def test_native_tensorrt_engine_parity(part, reference, cache):
    pytest.importorskip("tensorrt")
    if not torch.cuda.is_available():
        pytest.skip("TensorRT needs a CUDA device")
    inputs, expected = reference
    runner = build_runner(part, "tensorrt", cache_dir=cache)
    assert runner.provider == "tensorrt"
    check_parity(expected, runner.run(inputs), "float16")
    assert list((cache / "tensorrt").glob("*.timing"))  # timing cache saved next to the engine
    assert build_runner(part, "tensorrt", cache_dir=cache).provider == "tensorrt"  # reloads the cached engine


def test_cuda_graph_runner_parity(part, reference):
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    inputs, expected = reference
    gpu_part = depth_model_part(part.module.model.cuda(), (56, 70), name="runner-gpu")
    runner = TorchRunner(gpu_part, mode="cuda_graph")
    assert runner.provider == "torch-cuda-graph"
    check_parity(expected, runner.run(inputs), "float16")  # cuDNN convolutions may use TF32
    part.module.model.cpu()
