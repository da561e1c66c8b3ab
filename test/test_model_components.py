"""Projector token order, mask pooling, refinement and the exportable vision encoder."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import SiglipVisionConfig

from rgpt_ros.model.projector import MultimodalProjector, merge_2x2_tokens
from rgpt_ros.model.region_extractor import LayerNorm2d, RegionExtractor, mask_pool
from rgpt_ros.model.vision import SpatialRGPTVisionEncoder


def test_merge_order_on_hand_built_grid():
    grid, c = 27, 2
    # token (r, col) carries channels [r, col]
    tokens = torch.tensor([[r, col] for r in range(grid) for col in range(grid)], dtype=torch.float32)[None] + 1
    merged = merge_2x2_tokens(tokens, grid)
    assert merged.shape == (1, 196, 4 * c)
    for col_block in range(14):
        for row_block in range(14):
            got = merged[0, col_block * 14 + row_block].view(4, c)
            r, col = 2 * row_block, 2 * col_block
            for slot, (dr, dc) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
                rr, cc = r + dr, col + dc
                want = [rr + 1, cc + 1] if rr < grid and cc < grid else [0, 0]  # zero padding row/column
                assert got[slot].tolist() == want, (col_block, row_block, slot)


def test_projector_keys_and_output():
    proj = MultimodalProjector(8, 12)
    assert sorted(proj.state_dict()) == ["layers.1.bias", "layers.1.weight", "layers.2.bias", "layers.2.weight",
                                         "layers.4.bias", "layers.4.weight"]
    x = torch.randn(2, 729, 8)
    assert proj(x).shape == (2, 196, 12)


def _brute_force_pool(features, mask, grid):
    """Per grid cell bilinear weight computed by hand (align_corners=False), then the soft average."""
    size = mask.shape[-1]
    scale = size / grid
    out = np.zeros(features.shape[-1])
    weights = np.zeros((grid, grid))
    for i in range(grid):
        for j in range(grid):
            y = max((i + 0.5) * scale - 0.5, 0.0)
            x = max((j + 0.5) * scale - 0.5, 0.0)
            y0, x0 = int(np.floor(y)), int(np.floor(x))
            y1, x1 = min(y0 + 1, size - 1), min(x0 + 1, size - 1)
            wy, wx = y - y0, x - x0
            weights[i, j] = ((1 - wy) * (1 - wx) * mask[y0, x0] + (1 - wy) * wx * mask[y0, x1]
                             + wy * (1 - wx) * mask[y1, x0] + wy * wx * mask[y1, x1])
    total = weights.sum() + 1e-8
    for i in range(grid):
        for j in range(grid):
            out += weights[i, j] * features[i * grid + j]
    return out / total


@pytest.mark.parametrize("grid", [27, 108])
def test_mask_pool_matches_brute_force(grid):
    rng = np.random.default_rng(grid)
    features = rng.normal(size=(grid * grid, 5))
    mask = np.zeros((384, 384))
    mask[37:201, 90:333] = 1.0
    mask[250:260, 10:20] = 1.0
    got = mask_pool(torch.tensor(features, dtype=torch.float64)[None],
                    torch.tensor(np.stack([mask, np.zeros_like(mask)]))[None], grid, 384)
    np.testing.assert_allclose(got[0, 0].numpy(), _brute_force_pool(features, mask, grid), rtol=1e-4, atol=1e-6)  # mask resize runs in fp32 like the reference
    assert torch.count_nonzero(got[0, 1]) == 0  # empty region -> zeros


def test_mask_pool_no_regions():
    assert mask_pool(torch.randn(1, 729, 4), torch.zeros(1, 0, 384, 384), 27, 384).shape == (1, 0, 4)


def test_layernorm2d_is_channel_layernorm():
    torch.manual_seed(0)
    ln = LayerNorm2d(6)
    ln.weight.data.normal_()
    ln.bias.data.normal_()
    x = torch.randn(2, 6, 5, 7)
    want = F.layer_norm(x.permute(0, 2, 3, 1), (6,), ln.weight, ln.bias, eps=1e-6).permute(0, 3, 1, 2)
    torch.testing.assert_close(ln(x), want, rtol=1e-5, atol=1e-5)


def test_refinement_shapes_and_lres_is_average():
    torch.manual_seed(0)
    ext = RegionExtractor(4, 6, grid=27)
    hres, lres = ext.refine(torch.randn(1, 729, 4))
    assert hres.shape == (1, 108 * 108, 4) and lres.shape == (1, 729, 4)
    hmap = hres[0].T.reshape(4, 108, 108)
    torch.testing.assert_close(lres[0, 27 + 2], hmap[:, 4:8, 8:12].mean(dim=(1, 2)))


def _tiny_vision_config():
    return SiglipVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=3, num_attention_heads=2,
                              image_size=384, patch_size=14)


def test_features_are_penultimate_hidden_state():
    torch.manual_seed(0)
    enc = SpatialRGPTVisionEncoder(_tiny_vision_config(), 24).eval()
    x = torch.randn(2, 3, 384, 384)
    with torch.no_grad():
        hidden = enc.vision_tower(x, output_hidden_states=True).hidden_states
        torch.testing.assert_close(enc.features(x), hidden[-2])
        enc.feature_layers = 1  # select_layer 1 = output of the first encoder layer
        torch.testing.assert_close(enc.features(x), hidden[1])


def test_vision_encoder_forward_matches_pieces():
    torch.manual_seed(0)
    enc = SpatialRGPTVisionEncoder(_tiny_vision_config(), 24).eval()
    rgb, depth = torch.randn(1, 3, 384, 384), torch.randn(1, 3, 384, 384)
    masks = torch.zeros(1, 3, 384, 384)
    masks[0, 0, :100, :100] = 1
    masks[0, 1, 200:, 50:300] = 1
    with torch.no_grad():
        image, rgb_regions, depth_regions = enc(rgb, depth, masks)
        feats = enc.features(rgb)
        hres, lres = enc.region_extractor.refine(feats)
        depth_feats = enc.features(depth)
    assert image.shape == (1, 196, 24) and rgb_regions.shape == (1, 3, 24) and depth_regions.shape == (1, 3, 24)
    torch.testing.assert_close(image, enc.mm_projector(lres), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(rgb_regions, enc.region_extractor.rgb_projector(mask_pool(hres, masks, 108, 384)), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(depth_regions, enc.region_extractor.depth_projector(mask_pool(depth_feats, masks, 27, 384)),
                               rtol=1e-4, atol=1e-5)
    # the empty third mask pools to zeros -> embedding is the connector bias
    torch.testing.assert_close(rgb_regions[0, 2], enc.region_extractor.rgb_projector.bias)


def test_vision_encoder_exports_to_onnx_and_runs_in_onnxruntime():
    import io
    import warnings

    import onnxruntime as ort

    torch.manual_seed(0)
    enc = SpatialRGPTVisionEncoder(_tiny_vision_config(), 24).eval()
    with torch.no_grad():
        for p in enc.region_extractor.parameters():
            p.normal_(std=0.3)
    rgb, depth = torch.randn(1, 3, 384, 384), torch.randn(1, 3, 384, 384)
    masks = torch.zeros(1, 2, 384, 384)
    masks[0, 0, 10:100, 30:200] = 1
    masks[0, 1, 150:, 100:] = 1
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(enc, (rgb, depth, masks), buffer, dynamo=False, opset_version=17,
                          input_names=["pixel_values", "depth_pixel_values", "masks"],
                          output_names=["image_embeds", "rgb_region_embeds", "depth_region_embeds"])
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    other = torch.zeros_like(masks)
    other[0, :, 200:300, 200:300] = 1  # new inputs: the graph must not have baked in the example values
    with torch.no_grad():
        want = enc(rgb * 0.5, depth, other)
    got = session.run(None, {"pixel_values": (rgb * 0.5).numpy(), "depth_pixel_values": depth.numpy(),
                             "masks": other.numpy()})
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w.numpy(), rtol=1e-4, atol=1e-5)
