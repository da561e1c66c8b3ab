"""llama_3 prompt, region expansion and k-th binding, tokenisation around <image>, answer mapping."""

import pytest
import torch

from rgpt_ros.geometry.regions import Region
from rgpt_ros.model.modeling import FrameEncoding
from rgpt_ros.model.prompt import (IMAGE_TOKEN_INDEX, PromptError, answer_region, build_prompt, expand_regions,
                                   map_answer_regions, tokenize_with_image)
from rgpt_ros.model.testing import tiny_model
from rgpt_ros.qa.references import ReferenceError

REGIONS = [Region("cup", box=(0, 0, 10, 10)), Region("table", box=(5, 5, 50, 50)), Region("2", box=(1, 1, 3, 3))]


@pytest.fixture(scope="module")
def model():
    return tiny_model(seed=0)


def test_template_is_the_reference_llama_3():
    assert build_prompt("<image>\nQ?") == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful language and vision "
        "assistant. You are able to understand the visual content that the user provides, and assist the user with "
        "a variety of tasks using natural language.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n<image>\nQ?"
        "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")


def test_expansion_binds_mentions_in_order_with_repeats():
    prompt = expand_regions("Is <table> closer to <cup> than <table> is to <region2>?", REGIONS)
    assert prompt.text == ("<image>\nIs <mask> <depth> closer to <mask> <depth> than <mask> <depth> is to "
                           "<mask> <depth>?")
    assert prompt.mentions == (1, 0, 1, 2)
    assert prompt.resolved.distinct == (1, 0, 2)
    assert expand_regions("<image>\nHow wide is <region0>?", REGIONS, with_depth=False).text == \
        "<image>\nHow wide is <mask>?"
    bench = expand_regions("<image>\nIs <mask> <depth> left of <mask> <depth>?", REGIONS)
    assert bench.mentions == (0, 1) and bench.text.count("<image>") == 1
    stray = expand_regions("Is <depth> <region0> near <depth>?", REGIONS)
    assert stray.text == "<image>\nIs <mask> <depth> near?" and stray.mentions == (0,)


def test_expansion_errors():
    with pytest.raises(ReferenceError, match="unknown region id <chair>"):
        expand_regions("Where is <chair>?", REGIONS)
    with pytest.raises(PromptError):
        expand_regions("<image>\n  ", REGIONS)


def test_tokenize_with_image_strips_inner_bos(model):
    tok = model.tokenizer
    prompt = build_prompt("<image>\nHow far?")
    ids = tokenize_with_image(prompt, tok)
    head, tail = prompt.split("<image>")
    first, second = tok(head).input_ids, tok(tail).input_ids
    assert first[0] == tok.bos_token_id and second[0] == tok.bos_token_id  # tokenizer adds BOS like Llama-3
    assert ids == first + [IMAGE_TOKEN_INDEX] + second[1:]
    assert ids.count(IMAGE_TOKEN_INDEX) == 1


def test_kth_mask_gets_kth_region_embedding(model):
    hidden = model.config.hidden_size
    rgb = torch.arange(3 * hidden, dtype=torch.float32).view(1, 3, hidden) + 1000
    depth = -rgb
    image = torch.full((1, 196, hidden), 7.0)
    encoding = FrameEncoding(image, rgb, depth)
    prompt = expand_regions("Is <table> closer to <cup> than <table> is to <region2>?", REGIONS)
    ids = tokenize_with_image(build_prompt(prompt.text), model.tokenizer)
    embeds = model.prompt_embeds(ids, encoding, prompt.mentions)[0]
    at = ids.index(IMAGE_TOKEN_INDEX)
    assert embeds.shape[0] == len(ids) - 1 + 196
    assert torch.equal(embeds[at:at + 196], image[0])
    positions = lambda token: [i if i < at else i + 195 for i, t in enumerate(ids) if t == token]  # noqa: E731
    masks, depths = positions(model.mask_token_id), positions(model.depth_token_id)
    assert len(masks) == len(depths) == 4
    for k, region in enumerate(prompt.mentions):
        assert torch.equal(embeds[masks[k]], rgb[0, region])
        assert torch.equal(embeds[depths[k]], depth[0, region])
    text_ids = torch.tensor([t for t in ids[:at]])
    assert torch.equal(embeds[:at], model.llm.get_input_embeddings()(text_ids))


def test_mismatched_mentions_raise(model):
    hidden = model.config.hidden_size
    encoding = FrameEncoding(torch.zeros(1, 196, hidden), torch.zeros(1, 2, hidden), torch.zeros(1, 2, hidden))
    ids = tokenize_with_image(build_prompt("<image>\n<mask> <depth> and <mask> <depth>"), model.tokenizer)
    with pytest.raises(PromptError, match="2 <mask> token.*1 region"):
        model.prompt_embeds(ids, encoding, [0])
    no_image = tokenize_with_image(build_prompt("<mask> <depth>"), model.tokenizer)
    with pytest.raises(PromptError, match="exactly one <image>"):
        model.prompt_embeds(no_image, encoding, [0])


def test_answer_mapping_to_user_ids():
    order = (1, 0)  # Region [0] is the table (first mentioned), Region [1] the cup
    text = "Region [0] is 1.2 meters from Region [1]; Region [5] is unknown."
    assert map_answer_regions(text, order, REGIONS) == "table is 1.2 meters from cup; Region [5] is unknown."
    assert map_answer_regions(text, order, REGIONS, bench_style=True).startswith("Region [1] is 1.2 meters from Region [0]")
    assert map_answer_regions("Region [0] is left", (2,), REGIONS) == "Region [2] is left"  # numeric id keeps bench form
    assert answer_region("It is Region [1].", order) == 0
    assert answer_region("Neither.", order) is None
