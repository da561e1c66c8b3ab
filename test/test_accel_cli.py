"""``rgpt-export``: exports, builds runners, reports progress and a summary; clear failures."""

from __future__ import annotations

import json

import pytest
import torch

from rgpt_ros.cli.export import main
from rgpt_ros.depth.configs import write_random_depth_checkpoint


@pytest.fixture(scope="module")
def depth_ckpt(tmp_path_factory):
    return write_random_depth_checkpoint(tmp_path_factory.mktemp("cli") / "tiny-depth", metric=True, seed=8)


def test_depth_runner_with_check(depth_ckpt, tmp_path, capsys):
    code = main(["--depth", str(depth_ckpt), "--depth-size", "56", "--backend", "ort-cpu", "--check",
                 "--cache-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "[1] depth_anything-tiny-depth: pixel_values=1x3x56x56" in out
    row = next(line for line in out.splitlines() if line.startswith("depth_anything-tiny-depth "))
    assert "ort:CPUExecutionProvider" in row and float(row.split()[2]) < 1e-4  # parity column
    assert len(list((tmp_path / "onnx").glob("*.onnx"))) == 1


def test_onnx_only_export_of_the_vision_encoder(tmp_path, capsys):
    from rgpt_ros.model.testing import write_tiny_checkpoint

    ckpt = write_tiny_checkpoint(tmp_path / "tiny-rgpt")
    code = main(["--spatialrgpt", str(ckpt), "--regions", "2", "--backend", "onnx", "--device", "cpu",
                 "--cache-dir", str(tmp_path / "cache")])
    assert code == 0, capsys.readouterr()
    (sidecar,) = (tmp_path / "cache" / "onnx").glob("*.json")
    meta = json.loads(sidecar.read_text())
    assert meta["part"] == "tiny-rgpt-vision" and meta["inputs"][2] == ["masks", [1, 2, 384, 384]]


@pytest.mark.parametrize("argv, code, message", [
    ([], 2, "nothing to export"),
    (["--depth", "x", "--backend", "fastest"], 2, "unknown backend 'fastest'"),
    (["--depth", "/no/such/model"], 1, "'/no/such/model' does not exist"),
])
def test_errors(argv, code, message, capsys, tmp_path):
    assert main(argv + ["--cache-dir", str(tmp_path)]) == code
    assert message in capsys.readouterr().err


def test_required_backend_missing_is_an_error(depth_ckpt, tmp_path, capsys):
    if torch.cuda.is_available():
        pytest.skip("CPU-only check")
    assert main(["--depth", str(depth_ckpt), "--depth-size", "56", "--backend", "torch-cuda-graph",
                 "--cache-dir", str(tmp_path)]) == 1
    assert "no CUDA device" in capsys.readouterr().err
