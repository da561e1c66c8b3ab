"""Tiny random SpatialRGPT checkpoints in the reference layout, for tests of every part of the project.

``write_tiny_checkpoint(path)`` writes in well under 2 s: a 3-layer SigLIP (real 384x384 input, 27x27
grid), the region extractor, the projector, a 2-layer Llama, and a real byte-level BPE tokenizer built
offline with the Llama-3 special tokens plus the added ``[PAD]``, ``<mask>``, ``<depth>``.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, PreTrainedTokenizerFast, SiglipVisionConfig

from rgpt_ros.model.configuration import SpatialRGPTConfig
from rgpt_ros.model.modeling import SpatialRGPTForCausalLM
from rgpt_ros.model.prompt import ASSISTANT_HEADER, SYSTEM, USER_HEADER

LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
ADDED_TOKENS = ["[PAD]", "<mask>", "<depth>"]
_CORPUS = [
    SYSTEM, USER_HEADER, ASSISTANT_HEADER,
    "How far apart are <mask> <depth> and <mask> <depth>? What is the distance between them in meters?",
    "Region [0] is 1.5 meters away from Region [1]. The gap is about 42 centimeters, or 3 feet 2 inches.",
    "Is the left one taller than the right one? Yes, it is. No, it is not. Which is closer to the camera?",
    "Region [0] is roughly at 10 o'clock from Region [1]. The width is 0.8 m and the height is 25 cm.",
    "the a an of to in on is are it that this with for from by at as be or and",
    "0 1 2 3 4 5 6 7 8 9 10 11 12 0.5 1.2 2.75 mm cm m in ft inch inches foot feet meter meters",
]


def tiny_tokenizer(vocab_size: int = 480) -> PreTrainedTokenizerFast:
    """A real byte-level BPE tokenizer (encodes any text) with the Llama-3 specials and the added tokens."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=LLAMA3_SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(_CORPUS, trainer)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                                       special_tokens=[("<|begin_of_text|>", bos)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>")
    fast.add_special_tokens({"pad_token": "[PAD]"})
    fast.add_tokens(ADDED_TOKENS[1:], special_tokens=True)
    return fast


def tiny_config(vocab_size: int, *, enable_depth: bool = True) -> SpatialRGPTConfig:
    """Tiny component configs with the real image geometry (384x384, patch 14 -> 27x27 grid)."""
    vision = SiglipVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=3, num_attention_heads=2,
                                image_size=384, patch_size=14)
    llm = LlamaConfig(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                      rope_theta=500000.0, tie_word_embeddings=False, bos_token_id=0, eos_token_id=4)
    return SpatialRGPTConfig.from_components(llm, vision, enable_region=True, enable_depth=enable_depth)


def tiny_model(seed: int = 0, *, enable_depth: bool = True) -> SpatialRGPTForCausalLM:
    """A tiny random model with its tokenizer, in memory (fp32, CPU)."""
    tokenizer = tiny_tokenizer()
    config = tiny_config(len(tokenizer), enable_depth=enable_depth)
    config.llm.bos_token_id = tokenizer.bos_token_id
    config.llm.eos_token_id = tokenizer.convert_tokens_to_ids("<|eot_id|>")
    config.llm.pad_token_id = tokenizer.pad_token_id
    model = SpatialRGPTForCausalLM.from_config(config, tokenizer, seed=seed)
    with torch.no_grad():  # make the region branch matter: default init leaves the refinement near zero
        generator = torch.Generator().manual_seed(seed + 1)
        for param in model.vision.region_extractor.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * 0.3)
    return model


def write_tiny_checkpoint(path: str | os.PathLike, seed: int = 0, *, enable_depth: bool = True) -> Path:
    """Write a tiny random SpatialRGPT checkpoint folder in the reference layout; returns its path."""
    return tiny_model(seed, enable_depth=enable_depth).save_pretrained(Path(path))


def full_size_config(vocab_size: int = 128259) -> SpatialRGPTConfig:
    """The published model's shapes (SigLIP so400m-patch14-384 + Llama-3-8B, vocab 128256 + [PAD], <mask>, <depth>).

    For layout checks on the meta device and benchmarks with random weights; real loads read the checkpoint.
    """
    vision = SiglipVisionConfig(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16,
                                image_size=384, patch_size=14, layer_norm_eps=1e-6)
    llm = LlamaConfig(vocab_size=vocab_size, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                      num_attention_heads=32, num_key_value_heads=8, max_position_embeddings=8192, rms_norm_eps=1e-5,
                      rope_theta=500000.0, tie_word_embeddings=False, bos_token_id=128000, eos_token_id=128009)
    return SpatialRGPTConfig.from_components(llm, vision)
