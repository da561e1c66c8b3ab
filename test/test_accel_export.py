"""Static-shape ONNX export and parity with PyTorch through ONNX Runtime on CPU (tiny random models)."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch

from rgpt_ros.accel import (PARITY_BOUNDS, check_parity, depth_model_part, ensure_onnx, export_onnx,
                            vision_encoder_part)
from rgpt_ros.accel.ort_runner import OrtRunner
from rgpt_ros.depth.configs import random_depth_model


def eager(part, inputs):
    with torch.no_grad():
        return part.outputs_as_dict(part.module(*inputs.values()))


@pytest.fixture(scope="module")
def depth_part():
    return depth_model_part(random_depth_model("tiny", metric=True, seed=4), (98, 126), name="tiny-metric")


@pytest.fixture(scope="module")
def vision_part():
    from rgpt_ros.model.testing import tiny_model

    return vision_encoder_part(tiny_model(seed=0).vision, num_regions=3)


def static_dims(value_info):
    return [d.dim_value if d.HasField("dim_value") else d.dim_param for d in value_info.type.tensor_type.shape.dim]


def test_depth_export_is_static_and_recorded(depth_part, tmp_path):
    path = ensure_onnx(depth_part, cache_dir=tmp_path)
    model = onnx.load(str(path))
    assert max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) >= 17
    assert [(i.name, static_dims(i)) for i in model.graph.input] == [("pixel_values", [1, 3, 98, 126])]
    assert [(o.name, static_dims(o)) for o in model.graph.output] == [("predicted_depth", [1, 98, 126])]
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["fingerprint"] == depth_part.fingerprint and meta["inputs"] == [["pixel_values", [1, 3, 98, 126]]]
    mtime = path.stat().st_mtime_ns
    assert ensure_onnx(depth_part, cache_dir=tmp_path) == path and path.stat().st_mtime_ns == mtime  # cached


@pytest.mark.parametrize("exporter", ["dynamo", "legacy"])
def test_depth_parity_fp32(depth_part, tmp_path, exporter):
    if exporter == "dynamo":
        pytest.importorskip("onnxscript")
    attention = depth_part.module.model.backbone.config._attn_implementation
    path = export_onnx(depth_part, tmp_path / "d.onnx", exporter=exporter)
    assert depth_part.module.model.backbone.config._attn_implementation == attention  # restored after export
    if exporter == "dynamo":  # exported with eager attention: no SDPA NaN guards
        assert "IsNaN" not in {node.op_type for node in onnx.load(str(path)).graph.node}
    runner = OrtRunner(depth_part, path)
    assert runner.provider == "ort:CPUExecutionProvider"
    inputs = depth_part.example_inputs(seed=1)
    reference = eager(depth_part, inputs)
    assert reference["predicted_depth"].std() > 0.1  # a varying map, so parity means something
    errors = check_parity(reference, runner.run({k: v.numpy() for k, v in inputs.items()}), "float32")
    assert errors["predicted_depth"] < PARITY_BOUNDS["float32"]


def test_depth_parity_fp16_onnx(depth_part, tmp_path):
    """The fp16 ONNX (what strongly typed TensorRT 11 builds from) stays within the fp16 bound."""
    path = ensure_onnx(depth_part, cache_dir=tmp_path, dtype=torch.float16)
    assert onnx.load(str(path)).graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT16
    assert depth_part.dtype == torch.float32  # the exported copy was converted, not the part
    inputs = depth_part.example_inputs(seed=2)
    outputs = OrtRunner(depth_part, path).run(inputs)  # float32 inputs are cast to the graph's float16
    assert outputs["predicted_depth"].dtype == torch.float16
    check_parity(eager(depth_part, inputs), outputs, "float16")


def test_vision_encoder_parity_fp32(vision_part, tmp_path):
    path = ensure_onnx(vision_part, cache_dir=tmp_path)
    model = onnx.load(str(path))
    assert [(i.name, static_dims(i)) for i in model.graph.input] == [
        ("pixel_values", [1, 3, 384, 384]), ("depth_pixel_values", [1, 3, 384, 384]), ("masks", [1, 3, 384, 384])]
    inputs = vision_part.example_inputs(seed=3)
    inputs["masks"][0, 2] = 0.0  # an empty region pools to zeros
    reference = eager(vision_part, inputs)
    outputs = OrtRunner(vision_part, path).run(inputs)
    assert tuple(outputs["image_embeds"].shape) == (1, 196, reference["image_embeds"].shape[-1])
    errors = check_parity(reference, outputs, "float32")
    assert set(errors) == {"image_embeds", "rgb_region_embeds", "depth_region_embeds"}
    bias_only = vision_part.module.region_extractor.rgb_projector.bias.detach()
    np.testing.assert_allclose(outputs["rgb_region_embeds"][0, 2].numpy(), bias_only.numpy(), atol=1e-5)


def test_vision_encoder_parity_fp16_onnx(vision_part, tmp_path):
    path = ensure_onnx(vision_part, cache_dir=tmp_path, dtype=torch.float16)
    inputs = vision_part.example_inputs(seed=4)
    check_parity(eager(vision_part, inputs), OrtRunner(vision_part, path).run(inputs), "float16")


def test_accelerated_vision_encoder_pads_regions(vision_part, tmp_path):
    from rgpt_ros.accel import AcceleratedVisionEncoder

    encoder = vision_part.module
    fast = AcceleratedVisionEncoder(encoder, max_regions=3, preference="ort-cpu", cache_dir=tmp_path)
    assert fast.provider == "ort:CPUExecutionProvider"
    inputs = vision_part.example_inputs(seed=5)
    for regions in (1, 3, 4):  # padded, exact, more than the engine holds (eager fallback)
        masks = (torch.rand((1, regions, 384, 384), generator=torch.Generator().manual_seed(regions)) > 0.7).float()
        with torch.no_grad():
            expected = encoder(inputs["pixel_values"], inputs["depth_pixel_values"], masks)
        got = fast(inputs["pixel_values"], inputs["depth_pixel_values"], masks)
        assert [tuple(t.shape) for t in got] == [tuple(t.shape) for t in expected]
        check_parity(dict(enumerate(expected)), dict(enumerate(got)), "float32")


class GridFromShape(torch.nn.Module):
    """Shape arithmetic in Python: TorchScript tracing cannot follow it, torch.export can."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.linspace(0.5, 2.0, 4))

    def forward(self, tokens):
        grid = int(round(tokens.shape[1] ** 0.5))
        return (tokens * self.scale).reshape(tokens.shape[0], grid, grid, 4).mean(dim=2)


def test_auto_exporter_falls_back_to_dynamo(tmp_path):
    from rgpt_ros.accel import ExportError, ModelPart, TensorSpec

    pytest.importorskip("onnxscript")
    part = ModelPart("grid", GridFromShape(), (TensorSpec("tokens", (1, 9, 4)),), ("pooled",))
    with pytest.raises(ExportError, match="legacy: TypeError"):
        export_onnx(part, tmp_path / "legacy.onnx", exporter="legacy")
    path = export_onnx(part, tmp_path / "auto.onnx")
    assert json.loads(path.with_suffix(".json").read_text())["exporter"] == "dynamo"
    inputs = part.example_inputs()
    check_parity(eager(part, inputs), OrtRunner(part, path).run(inputs), "float32")


def test_export_argument_errors(depth_part, tmp_path):
    with pytest.raises(ValueError, match="opset 16"):
        export_onnx(depth_part, tmp_path / "x.onnx", opset=16)
    with pytest.raises(ValueError, match="'torchscript'"):
        export_onnx(depth_part, tmp_path / "x.onnx", exporter="torchscript")
