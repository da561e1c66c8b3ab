"""Shared fixtures of the training tests: small real checkpoints and a small generated QA set."""

from __future__ import annotations

from pathlib import Path

from rgpt_ros.model.modeling import SpatialRGPTForCausalLM
from rgpt_ros.model.testing import tiny_config, tiny_tokenizer
from rgpt_ros.training.make_qa import MakeQAConfig, make_qa
from rgpt_ros.training.sources import synthetic_frames


def small_image_checkpoint(path: Path, seed: int = 0, image_size: int = 112) -> Path:
    """The tiny test model with a smaller image (112 px -> 8x8 grid, 16 image tokens): same code, faster steps."""
    tokenizer = tiny_tokenizer()
    config = tiny_config(len(tokenizer))
    config.vision_tower.image_size = image_size
    config.llm.initializer_range = 0.2  # output logits on a pretrained-like scale, so adapters alone can fit data
    config.llm.bos_token_id = tokenizer.bos_token_id
    config.llm.eos_token_id = tokenizer.convert_tokens_to_ids("<|eot_id|>")
    config.llm.pad_token_id = tokenizer.pad_token_id
    model = SpatialRGPTForCausalLM.from_config(config, tokenizer, seed=seed)
    return model.save_pretrained(path)


def small_qa_set(path: Path, seed: int = 0, per_category: int = 1, frames: int = 12, **options) -> Path:
    """One QA per bench category from small synthetic scenes."""
    make_qa(synthetic_frames(frames, seed=seed, width=240, height=180), path,
            MakeQAConfig(seed=seed, per_category=per_category, **options), progress=False)
    return path


def one_thread():
    """Generator for an autouse fixture: these tiny models run far faster single-threaded, especially when other
    processes share the cores (intra-op threads then mostly wait on each other)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
