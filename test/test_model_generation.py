"""Greedy decoding against a cache-free reference, static cache, seeded sampling, stop tokens."""

import pytest
import torch

from rgpt_ros.model.generation import GenerationError, GenerationSettings, Generator
from rgpt_ros.model.testing import tiny_model


@pytest.fixture(scope="module")
def setup():
    model = tiny_model(seed=0)
    torch.manual_seed(1)
    embeds = torch.randn(1, 40, model.config.hidden_size)
    return model, embeds


def _greedy_without_cache(llm, embeds, steps):
    tokens = []
    seq = embeds
    with torch.no_grad():
        for _ in range(steps):
            logits = llm(inputs_embeds=seq, use_cache=False).logits[:, -1]
            token = int(logits.argmax(-1))
            tokens.append(token)
            seq = torch.cat([seq, llm.get_input_embeddings()(torch.tensor([[token]]))], dim=1)
    return tokens


def test_greedy_matches_cache_free_decoding_and_is_deterministic(setup):
    model, embeds = setup
    gen = Generator(model.llm, stop_ids=[], settings=GenerationSettings(max_new_tokens=12))
    first = gen.generate(embeds)
    assert len(first) == 12
    assert first == gen.generate(embeds)
    assert first == _greedy_without_cache(model.llm, embeds, 12)


def test_static_cache_same_tokens_and_reused(setup):
    model, embeds = setup
    dynamic = Generator(model.llm, [], GenerationSettings(max_new_tokens=12)).generate(embeds)
    static = Generator(model.llm, [], GenerationSettings(max_new_tokens=12, static_cache=True))
    assert static.generate(embeds) == dynamic
    cache = static._static
    assert static.generate(embeds[:, :30]) == Generator(model.llm, [], GenerationSettings(max_new_tokens=12)).generate(
        embeds[:, :30])
    assert static._static is cache  # same preallocated cache, reset between prompts


def test_stop_token_and_budget(setup):
    model, embeds = setup
    tokens = Generator(model.llm, [], GenerationSettings(max_new_tokens=6)).generate(embeds)
    stopped = Generator(model.llm, [tokens[2]], GenerationSettings(max_new_tokens=6)).generate(embeds)
    assert stopped == tokens[:tokens.index(tokens[2])]
    assert len(Generator(model.llm, [], GenerationSettings(max_new_tokens=6)).generate(embeds, max_new_tokens=2)) == 2


def test_seeded_sampling_reproducible(setup):
    model, embeds = setup
    settings = GenerationSettings(max_new_tokens=10, do_sample=True, temperature=5.0, top_p=0.9, seed=7)
    a = Generator(model.llm, [], settings).generate(embeds)
    assert a == Generator(model.llm, [], settings).generate(embeds)
    others = {tuple(Generator(model.llm, [], GenerationSettings(max_new_tokens=10, do_sample=True, temperature=5.0,
                                                                seed=s)).generate(embeds)) for s in range(4)}
    assert len(others) > 1  # the seed matters at a high temperature


def test_bad_settings():
    with pytest.raises(GenerationError, match="max_new_tokens"):
        GenerationSettings(max_new_tokens=0)
    with pytest.raises(GenerationError, match="static_cache"):
        GenerationSettings(compile=True)
    with pytest.raises(GenerationError, match="top_p"):
        GenerationSettings(top_p=0)


def test_compiled_decode_step_traces_and_matches(setup):
    """The compiled static-cache decode step (the CUDA-graph path) gives the eager tokens; aot_eager keeps it fast."""
    model, embeds = setup
    eager = Generator(model.llm, [], GenerationSettings(max_new_tokens=10)).generate(embeds)
    compiled = Generator(model.llm, [], GenerationSettings(max_new_tokens=10, static_cache=True, compile=True,
                                                            compile_backend="aot_eager"))
    assert compiled.generate(embeds) == eager
    assert compiled.generate(embeds[:, :25]) == Generator(model.llm, [], GenerationSettings(max_new_tokens=10)).generate(
        embeds[:, :25])
