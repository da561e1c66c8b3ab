"""Full-size weight names and shapes of the published checkpoint, checked on the meta device (no memory)."""

import re

import pytest
import torch

from rgpt_ros.model.modeling import SpatialRGPTForCausalLM
from rgpt_ros.model.testing import full_size_config

# From SPATIALRGPT.md and the published checkpoint listing (SigLIP so400m-patch14-384, Llama-3-8B).
EXPECTED = {
    "mm_projector": {
        "layers.1.weight": (4608,), "layers.1.bias": (4608,),
        "layers.2.weight": (4096, 4608), "layers.2.bias": (4096,),
        "layers.4.weight": (4096, 4096), "layers.4.bias": (4096,),
    },
    "region_extractor": {
        "feature_refinement_module.0.weight": (1152, 1152, 2, 2), "feature_refinement_module.0.bias": (1152,),
        "feature_refinement_module.1.weight": (1152,), "feature_refinement_module.1.bias": (1152,),
        "feature_refinement_module.3.weight": (1152, 1152, 2, 2), "feature_refinement_module.3.bias": (1152,),
        "rgb_projector.weight": (4096, 1152), "rgb_projector.bias": (4096,),
        "depth_projector.weight": (4096, 1152), "depth_projector.bias": (4096,),
    },
}
VISION_SAMPLE = {
    "vision_model.embeddings.patch_embedding.weight": (1152, 3, 14, 14),
    "vision_model.embeddings.position_embedding.weight": (729, 1152),
    "vision_model.encoder.layers.26.self_attn.q_proj.weight": (1152, 1152),
    "vision_model.encoder.layers.26.mlp.fc1.weight": (4304, 1152),
    "vision_model.encoder.layers.26.mlp.fc2.weight": (1152, 4304),
    "vision_model.post_layernorm.weight": (1152,),
}
LLM_SAMPLE = {
    "model.embed_tokens.weight": (128259, 4096),
    "model.layers.31.self_attn.q_proj.weight": (4096, 4096),
    "model.layers.31.self_attn.k_proj.weight": (1024, 4096),
    "model.layers.31.self_attn.v_proj.weight": (1024, 4096),
    "model.layers.31.self_attn.o_proj.weight": (4096, 4096),
    "model.layers.31.mlp.gate_proj.weight": (14336, 4096),
    "model.layers.31.mlp.up_proj.weight": (14336, 4096),
    "model.layers.31.mlp.down_proj.weight": (4096, 14336),
    "model.layers.31.input_layernorm.weight": (4096,),
    "model.norm.weight": (4096,),
    "lm_head.weight": (128259, 4096),
}


@pytest.fixture(scope="module")
def state():
    with torch.device("meta"):
        model = SpatialRGPTForCausalLM(full_size_config())
    return model.reference_state_dicts()


def _shapes(d):
    return {k: tuple(v.shape) for k, v in d.items()}


def test_projector_and_region_extractor_exact(state):
    assert _shapes(state["mm_projector"]) == EXPECTED["mm_projector"]
    assert _shapes(state["region_extractor"]) == EXPECTED["region_extractor"]
    assert sum(v.numel() for v in state["region_extractor"].values()) == 20_066_816


def test_vision_tower_names(state):
    shapes = _shapes(state["vision_tower"])
    for key, shape in VISION_SAMPLE.items():
        assert shapes[key] == shape, key
    assert all(k.startswith("vision_model.") for k in shapes)
    layers = {int(m.group(1)) for k in shapes if (m := re.match(r"vision_model\.encoder\.layers\.(\d+)\.", k))}
    assert layers == set(range(27))


def test_llm_names_and_size(state):
    shapes = _shapes(state["llm"])
    for key, shape in LLM_SAMPLE.items():
        assert shapes[key] == shape, key
    # 8.03B Llama-3-8B parameters + 3 added token rows in embed_tokens and lm_head
    assert sum(v.numel() for v in state["llm"].values()) == 8_030_261_248 + 2 * 3 * 4096
    assert set(state) == {"llm", "vision_tower", "mm_projector", "region_extractor"}
