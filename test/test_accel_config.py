"""Configuration logic of the GPU runtimes (TensorRT, ORT TensorRT/CUDA EPs), checked on CPU without them."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rgpt_ros.accel import (AUTO_ORDER, ParityError, TensorSpec, backend_order, check_parity, depth_model_part,
                            engine_key, relative_error, unavailable_reason)
from rgpt_ros.accel.cache import engine_paths, onnx_path, ort_trt_cache_dir, safe_name
from rgpt_ros.accel.ort_runner import (CPU_EP, CUDA_EP, TRT_EP, cuda_ep_options, profile_shapes, provider_chain,
                                       tensorrt_ep_options)
from rgpt_ros.accel.runner import RuntimeUnavailableError
from rgpt_ros.accel.tensorrt_engine import plan_build, trt_major
from rgpt_ros.depth.configs import random_depth_model

SPECS = (TensorSpec("pixel_values", (1, 3, 518, 518)), TensorSpec("masks", (1, 4, 384, 384), fill="binary"))


@pytest.fixture(scope="module")
def part():
    return depth_model_part(random_depth_model("tiny", seed=0), (98, 98), name="tiny")


def test_profile_shapes_notation():
    assert profile_shapes(SPECS) == "pixel_values:1x3x518x518,masks:1x4x384x384"


def test_tensorrt_ep_options(tmp_path):
    opts = tensorrt_ep_options(SPECS, tmp_path, fp16=True, device_id=1, workspace_bytes=2 << 30)
    assert opts["trt_fp16_enable"] is True and opts["device_id"] == 1
    assert opts["trt_engine_cache_enable"] is True and opts["trt_timing_cache_enable"] is True
    assert opts["trt_engine_cache_path"] == str(tmp_path) == opts["trt_timing_cache_path"]
    static = "pixel_values:1x3x518x518,masks:1x4x384x384"
    assert opts["trt_profile_min_shapes"] == opts["trt_profile_opt_shapes"] == opts["trt_profile_max_shapes"] == static
    assert opts["trt_max_workspace_size"] == 2 << 30
    assert tensorrt_ep_options(SPECS, tmp_path, fp16=False)["trt_fp16_enable"] is False


def test_cuda_ep_options():
    assert cuda_ep_options(2) == {"device_id": 2, "cudnn_conv_algo_search": "EXHAUSTIVE",
                                  "do_copy_in_default_stream": True}


@pytest.mark.parametrize("available, first, expected", [
    ([TRT_EP, CUDA_EP, CPU_EP], "tensorrt", [TRT_EP, CUDA_EP, CPU_EP]),
    ([TRT_EP, CUDA_EP, CPU_EP], "cuda", [CUDA_EP, CPU_EP]),
    ([TRT_EP, CUDA_EP, CPU_EP], CPU_EP, [CPU_EP]),
    ([TRT_EP, CPU_EP], TRT_EP, [TRT_EP, CPU_EP]),  # no CUDA EP: TensorRT then CPU
    (["AzureExecutionProvider", CPU_EP], "cpu", [CPU_EP]),
])
def test_provider_chain_order(tmp_path, available, first, expected):
    chain = provider_chain(first, available=available, inputs=SPECS, cache_dir=tmp_path)
    assert [name for name, _ in chain] == expected
    options = dict(chain)
    if TRT_EP in options:
        assert options[TRT_EP]["trt_engine_cache_path"] == str(tmp_path)
    if CUDA_EP in options:
        assert options[CUDA_EP]["device_id"] == 0


def test_provider_chain_refuses_missing_or_unknown(tmp_path):
    with pytest.raises(RuntimeUnavailableError, match="TensorrtExecutionProvider"):
        provider_chain("tensorrt", available=[CPU_EP], inputs=SPECS, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="ROCm"):
        provider_chain("ROCm", available=[CPU_EP], inputs=SPECS, cache_dir=tmp_path)


@pytest.mark.parametrize("version, network, builder, onnx_dtype", [
    ("8.6.1", ("EXPLICIT_BATCH",), ("FP16",), "float32"),
    ("10.0.1", (), ("FP16",), "float32"),          # EXPLICIT_BATCH deprecated/ignored in 10
    ("10.13.3.9", (), ("FP16",), "float32"),
    ("11.0.0", (), (), "float16"),                 # no BuilderFlag.FP16 in 11: strongly typed fp16 ONNX
    ("11.4.1", (), (), "float16"),
])
def test_tensorrt_build_plan(version, network, builder, onnx_dtype):
    plan = plan_build(version, fp16=True)
    assert (plan.network_flags, plan.builder_flags, plan.onnx_dtype) == (network, builder, onnx_dtype)
    assert plan.precision == "fp16" and plan.trt_major == trt_major(version)


def test_tensorrt_build_plan_fp32_and_errors():
    assert plan_build("10.2.0", fp16=False).builder_flags == ()
    assert plan_build("11.1.0", fp16=False).onnx_dtype == "float32"
    assert plan_build("11.1.0", fp16=False).precision == "fp32"
    with pytest.raises(ValueError, match="too old"):
        plan_build("7.2.3")
    with pytest.raises(ValueError, match="'abc'"):
        plan_build("abc")


def test_engine_key_changes_with_everything_it_depends_on(part):
    base = engine_key(part, precision="fp16", gpu="NVIDIA H100 sm90", trt_version="10.13.0")
    assert base == engine_key(part, precision="fp16", gpu="NVIDIA H100 sm90", trt_version="10.13.0")
    variants = [
        engine_key(part, precision="fp32", gpu="NVIDIA H100 sm90", trt_version="10.13.0"),
        engine_key(part, precision="fp16", gpu="Orin sm87", trt_version="10.13.0"),
        engine_key(part, precision="fp16", gpu="NVIDIA H100 sm90", trt_version="11.0.0"),
        engine_key(depth_model_part(part.module.model, (112, 112), name="tiny"), precision="fp16",
                   gpu="NVIDIA H100 sm90", trt_version="10.13.0"),
        engine_key(depth_model_part(random_depth_model("tiny", seed=1), (98, 98), name="tiny"), precision="fp16",
                   gpu="NVIDIA H100 sm90", trt_version="10.13.0"),
    ]
    digests = {base.digest} | {v.digest for v in variants}
    assert len(digests) == 1 + len(variants)


def test_cache_paths(part, tmp_path):
    key = engine_key(part, precision="fp16", gpu="Orin sm87", trt_version="10.3.0")
    paths = engine_paths(key, tmp_path)
    assert paths.engine == tmp_path / "tensorrt" / f"{key.stem}.engine"
    assert paths.timing_cache.name == f"{key.stem}.timing" and key.stem.startswith("depth_anything-tiny-")
    assert ort_trt_cache_dir(key, tmp_path) == tmp_path / "ort_trt" / key.stem
    a = onnx_path(part, opset=18, dtype="float32", cache_dir=tmp_path)
    assert a != onnx_path(part, opset=18, dtype="float16", cache_dir=tmp_path)
    assert a != onnx_path(part, opset=17, dtype="float32", cache_dir=tmp_path)
    assert safe_name("depth-anything/Depth Anything V2") == "depth-anything_Depth_Anything_V2"


def test_default_cache_dir_env(monkeypatch, tmp_path):
    from rgpt_ros.accel import default_cache_dir

    monkeypatch.setenv("RGPT_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == Path(tmp_path)


def test_backend_order():
    assert backend_order("auto") == AUTO_ORDER
    assert AUTO_ORDER.index("tensorrt") < AUTO_ORDER.index("ort-tensorrt") < AUTO_ORDER.index("ort-cuda") \
        < AUTO_ORDER.index("ort-cpu") < AUTO_ORDER.index("torch-eager")
    assert backend_order(["ort-cpu", "auto"])[0] == "ort-cpu"
    assert backend_order(("torch-compile", "torch-eager")) == ("torch-compile", "torch-eager")
    with pytest.raises(ValueError, match="'onnx-gpu'"):
        backend_order("onnx-gpu")


def test_unavailable_reasons():
    gpu = dict(cuda=True, providers=[TRT_EP, CUDA_EP, CPU_EP], trt_version="10.13.0")
    assert all(unavailable_reason(b, **gpu) is None for b in AUTO_ORDER)
    cpu = dict(cuda=False, providers=[CPU_EP], trt_version=None)
    assert "not installed" in unavailable_reason("tensorrt", **cpu)
    assert "TensorrtExecutionProvider" in unavailable_reason("ort-tensorrt", **cpu)
    assert "CUDAExecutionProvider" in unavailable_reason("ort-cuda", **cpu)
    assert unavailable_reason("torch-cuda-graph", **cpu) == "no CUDA device"
    assert unavailable_reason("tensorrt", cuda=False, providers=[CPU_EP], trt_version="10.1") == "no CUDA device"
    assert unavailable_reason("ort-cpu", cuda=False, providers=[], trt_version=None) == "onnxruntime is not installed"
    assert unavailable_reason("ort-cpu", **cpu) is None and unavailable_reason("torch-eager", **cpu) is None


def test_parity_bounds():
    ref = {"y": torch.tensor([1.0, -2.0, 4.0])}
    assert relative_error(ref["y"], ref["y"]) == 0.0
    assert check_parity(ref, {"y": torch.tensor([1.0, -2.0, 4.0002])})["y"] == pytest.approx(5e-5, rel=1e-2)
    with pytest.raises(ParityError, match="float32"):
        check_parity(ref, {"y": torch.tensor([1.0, -2.0, 4.01])})
    assert check_parity(ref, {"y": torch.tensor([1.0, -2.0, 4.01])}, "float16")["y"] < 3e-3
    with pytest.raises(ParityError):
        check_parity(ref, {"y": torch.tensor([1.0, float("nan"), 4.0])}, "float16")
    with pytest.raises(ValueError, match="shape"):
        relative_error(torch.zeros(3), torch.zeros(4))
