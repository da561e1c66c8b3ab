"""Reference-layout checkpoint I/O: bit-exact round trip, nested configs, sharding, clear errors."""

import json
import shutil
import time

import pytest
import torch
from safetensors.torch import load_file, save_file

from rgpt_ros.model.checkpoint import CheckpointError, resolve_checkpoint
from rgpt_ros.model.configuration import ConfigError, SpatialRGPTConfig
from rgpt_ros.model.modeling import SpatialRGPTForCausalLM, read_reference_tensors
from rgpt_ros.model.testing import write_tiny_checkpoint


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "ckpt", seed=0)


def _assert_same_tensors(a, b):
    assert a.keys() == b.keys()
    for component in a:
        assert a[component].keys() == b[component].keys(), component
        for key, tensor in a[component].items():
            other = b[component][key]
            assert tensor.dtype == other.dtype and tensor.shape == other.shape, key
            assert torch.equal(tensor.view(-1).view(torch.uint8), other.view(-1).view(torch.uint8)), key


def test_tiny_checkpoint_layout_and_speed(tmp_path):
    start = time.perf_counter()
    folder = write_tiny_checkpoint(tmp_path / "c", seed=3)
    assert time.perf_counter() - start < 2.0
    for name in ("config.json", "llm/config.json", "llm/model.safetensors", "llm/tokenizer.json",
                 "vision_tower/config.json", "vision_tower/model.safetensors", "vision_tower/preprocessor_config.json",
                 "mm_projector/config.json", "mm_projector/model.safetensors", "region_extractor/config.json",
                 "region_extractor/model.safetensors"):
        assert (folder / name).is_file(), name
    top = json.loads((folder / "config.json").read_text())
    assert top["model_type"] == "llava_llama" and top["architectures"] == ["LlavaLlamaModel"]
    assert top["mm_projector_cfg"]["mm_projector_type"] == "mlp_downsample"
    assert top["region_extractor_cfg"]["region_extractor_type"] == "regiongpt"
    assert top["enable_region"] and top["enable_depth"] and top["mm_vision_select_layer"] == -2
    assert set(load_file(folder / "mm_projector/model.safetensors")) == {f"layers.{i}.{p}" for i in (1, 2, 4)
                                                                         for p in ("weight", "bias")}
    assert all(k.startswith("vision_model.") for k in load_file(folder / "vision_tower/model.safetensors"))


def test_same_seed_same_bytes(tmp_path):
    a = write_tiny_checkpoint(tmp_path / "a", seed=1)
    b = write_tiny_checkpoint(tmp_path / "b", seed=1)
    _assert_same_tensors(read_reference_tensors(a), read_reference_tensors(b))
    assert (a / "llm/tokenizer.json").read_text() == (b / "llm/tokenizer.json").read_text()


def test_round_trip_is_bit_exact(tiny, tmp_path):
    model = SpatialRGPTForCausalLM.from_pretrained(tiny)
    out = model.save_pretrained(tmp_path / "again")
    _assert_same_tensors(read_reference_tensors(tiny), read_reference_tensors(out))
    assert json.loads((out / "config.json").read_text()) == json.loads((tiny / "config.json").read_text())
    for sub in ("llm", "vision_tower", "mm_projector", "region_extractor"):
        assert json.loads((out / sub / "config.json").read_text()) == json.loads((tiny / sub / "config.json").read_text())
    again = SpatialRGPTForCausalLM.from_pretrained(out)
    assert again.tokenizer("<mask> <depth> 1.5 m").input_ids == model.tokenizer("<mask> <depth> 1.5 m").input_ids


def test_bf16_round_trip_and_sharded_llm(tiny, tmp_path):
    model = SpatialRGPTForCausalLM.from_pretrained(tiny, dtype=torch.bfloat16)
    out = model.save_pretrained(tmp_path / "sharded", max_shard_bytes=20_000)
    assert (out / "llm/model.safetensors.index.json").is_file()
    assert len(list((out / "llm").glob("model-*-of-*.safetensors"))) > 1
    back = SpatialRGPTForCausalLM.from_pretrained(out, dtype=torch.bfloat16)
    _assert_same_tensors(back.reference_state_dicts(), model.reference_state_dicts())
    assert back.dtype == torch.bfloat16


def test_nested_cfg_without_subfolder_configs(tiny, tmp_path):
    copy = tmp_path / "nested"
    shutil.copytree(tiny, copy)
    for sub in ("vision_tower", "mm_projector", "region_extractor"):
        (copy / sub / "config.json").unlink()
    config = SpatialRGPTConfig.from_pretrained(copy)
    assert config.vision_tower.hidden_size == 16 and config.projector_type == "mlp_downsample"
    assert config.enable_region and config.enable_depth and config.grid_size == 27
    SpatialRGPTForCausalLM.from_pretrained(copy)


def test_extra_config_fields_survive(tiny, tmp_path):
    copy = tmp_path / "extra"
    shutil.copytree(tiny, copy)
    top = json.loads((copy / "config.json").read_text())
    top["resume_path"] = "./checkpoints/x"
    top["num_video_frames"] = 8
    (copy / "config.json").write_text(json.dumps(top))
    out = SpatialRGPTForCausalLM.from_pretrained(copy).save_pretrained(tmp_path / "out")
    saved = json.loads((out / "config.json").read_text())
    assert saved["resume_path"] == "./checkpoints/x" and saved["num_video_frames"] == 8


def test_vision_tower_without_head_loads(tiny, tmp_path):
    copy = tmp_path / "nohead"
    shutil.copytree(tiny, copy)
    path = copy / "vision_tower/model.safetensors"
    tensors = {k: v for k, v in load_file(path).items() if ".head." not in k}
    save_file(tensors, path)
    model = SpatialRGPTForCausalLM.from_pretrained(copy)
    assert not hasattr(model.vision.vision_tower, "head")


def test_missing_weights_error(tiny, tmp_path):
    copy = tmp_path / "broken"
    shutil.copytree(tiny, copy)
    (copy / "region_extractor/model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="region_extractor.*missing"):
        SpatialRGPTForCausalLM.from_pretrained(copy)


def test_wrong_key_and_shape_errors(tiny, tmp_path):
    copy = tmp_path / "badkeys"
    shutil.copytree(tiny, copy)
    path = copy / "mm_projector/model.safetensors"
    tensors = load_file(path)
    tensors["layers.3.weight"] = tensors.pop("layers.2.weight")
    save_file(tensors, path)
    with pytest.raises(CheckpointError, match=r"mm_projector.*layers\.2\.weight.*layers\.3\.weight"):
        SpatialRGPTForCausalLM.from_pretrained(copy)
    tensors["layers.2.weight"] = tensors.pop("layers.3.weight")[:, :-1].contiguous()
    save_file(tensors, path)
    with pytest.raises(CheckpointError, match="shape"):
        SpatialRGPTForCausalLM.from_pretrained(copy)


def test_not_a_spatialrgpt_checkpoint(tiny, tmp_path):
    copy = tmp_path / "llama"
    shutil.copytree(tiny, copy)
    top = json.loads((copy / "config.json").read_text())
    top["model_type"] = "llama"
    (copy / "config.json").write_text(json.dumps(top))
    with pytest.raises(ConfigError, match="llava_llama"):
        SpatialRGPTForCausalLM.from_pretrained(copy)
    with pytest.raises(ConfigError, match="no config.json"):
        SpatialRGPTForCausalLM.from_pretrained(tmp_path)


def test_offline_hub_id_absent_names_the_id(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CheckpointError, match=r"a8cheng/SpatialRGPT-VILA1\.5-8B.*offline"):
        resolve_checkpoint("a8cheng/SpatialRGPT-VILA1.5-8B", cache_dir=tmp_path / "empty-cache")
    with pytest.raises(CheckpointError, match="not a folder"):
        resolve_checkpoint(str(tmp_path / "nope" / "deeper" / "x"))


def test_loaded_model_computes_like_the_saved_one(tmp_path):
    from rgpt_ros.model.testing import tiny_model

    original = tiny_model(seed=2)
    loaded = SpatialRGPTForCausalLM.from_pretrained(original.save_pretrained(tmp_path / "m"))
    torch.manual_seed(0)
    pixels, depth = torch.randn(1, 3, 384, 384), torch.randn(1, 3, 384, 384)
    masks = torch.zeros(1, 2, 384, 384)
    masks[0, 0, :50, :80] = 1
    masks[0, 1, 100:, 200:] = 1
    a, b = original.encode_frame(pixels, depth, masks), loaded.encode_frame(pixels, depth, masks)
    for x, y in zip((a.image_embeds, a.rgb_regions, a.depth_regions), (b.image_embeds, b.rgb_regions, b.depth_regions)):
        assert torch.equal(x, y)
    # non-persistent buffers (rotary frequencies, SigLIP position ids) are rebuilt correctly on load
    for (name, x), (_, y) in zip(original.named_buffers(), loaded.named_buffers()):
        assert torch.equal(x, y), name
    ids = torch.arange(5, 60)[None]
    with torch.no_grad():
        assert torch.equal(original.llm(ids).logits, loaded.llm(ids).logits)


def test_vision_encoder_alone_loads_the_same_weights(tiny):
    from rgpt_ros.model.modeling import load_vision_encoder

    vision = load_vision_encoder(tiny)
    full = SpatialRGPTForCausalLM.from_pretrained(tiny)
    assert vision.state_dict().keys() == full.vision.state_dict().keys()
    for key, value in vision.state_dict().items():
        assert torch.equal(value, full.vision.state_dict()[key]), key


def test_offline_hub_id_from_the_local_cache(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cache = tmp_path / "hub"
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / "models--a8cheng--SpatialRGPT-VILA1.5-8B"
    shutil.copytree(tiny, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    model = SpatialRGPTForCausalLM.from_pretrained("a8cheng/SpatialRGPT-VILA1.5-8B", cache_dir=cache)
    _assert_same_tensors(model.reference_state_dicts(), read_reference_tensors(tiny))
