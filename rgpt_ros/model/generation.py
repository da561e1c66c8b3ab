"""Token generation from prompt embeddings: greedy by default, optional sampling, static cache, compile.

The eager path (dynamic cache) reproduces ``generate(do_sample=False)`` of the reference; the
static-cache path preallocates the KV cache so the one-token decode step has fixed shapes and can be
compiled (``torch.compile``; on CUDA with ``mode="reduce-overhead"``, i.e. CUDA graphs).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
from transformers import DynamicCache, LlamaForCausalLM, StaticCache

CACHE_BUCKET = 256  # static cache lengths are rounded up to this to avoid recompiling per prompt length


class GenerationError(ValueError):
    """Invalid generation settings."""


@dataclass
class GenerationSettings:
    """How to decode. Defaults reproduce the reference evaluation (greedy, 128 new tokens)."""

    max_new_tokens: int = 128
    do_sample: bool = False
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int = 0
    static_cache: bool = False
    compile: bool = False
    compile_backend: str = "inductor"

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise GenerationError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.do_sample and self.temperature <= 0:
            raise GenerationError(f"temperature must be > 0 when sampling, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise GenerationError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.compile and not self.static_cache:
            raise GenerationError("compile=True needs static_cache=True (fixed shapes)")


def _pick(logits: torch.Tensor, settings: GenerationSettings, generator: Optional[torch.Generator]) -> torch.Tensor:
    """(B, V) logits -> (B,) next token ids."""
    if not settings.do_sample:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.float() / settings.temperature, dim=-1)
    if settings.top_p < 1:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        drop = sorted_probs.cumsum(-1) - sorted_probs > settings.top_p
        sorted_probs = sorted_probs.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


class Generator:
    """Decodes answers for one LLM; keeps its static cache and compiled step between calls."""

    def __init__(self, llm: LlamaForCausalLM, stop_ids: Sequence[int], settings: GenerationSettings | None = None):
        self.llm = llm
        self.stop_ids = set(int(i) for i in stop_ids)
        self.settings = settings or GenerationSettings()
        self._static: Optional[StaticCache] = None
        self._static_len = 0
        self._decode: Callable = self._step
        if self.settings.compile:
            backend = self.settings.compile_backend
            options = {"mode": "reduce-overhead" if self._device.type == "cuda" else "default"} \
                if backend == "inductor" else {}
            self._decode = torch.compile(self._step, backend=backend, fullgraph=False, dynamic=False, **options)

    @property
    def _device(self) -> torch.device:
        return self.llm.get_input_embeddings().weight.device

    def _step(self, input_ids: torch.Tensor, position_ids: torch.Tensor, cache) -> torch.Tensor:
        out = self.llm(input_ids=input_ids, position_ids=position_ids, past_key_values=cache, use_cache=True,
                       logits_to_keep=1)
        return out.logits[:, -1, :]

    def _cache(self, needed: int):
        if not self.settings.static_cache:
            return DynamicCache(config=self.llm.config)
        length = -(-needed // CACHE_BUCKET) * CACHE_BUCKET
        if self._static is None or self._static_len < length:
            self._static = StaticCache(config=self.llm.config, max_cache_len=length)
            self._static_len = length
        else:
            self._static.reset()
        return self._static

    @torch.inference_mode()
    def generate(self, inputs_embeds: torch.Tensor, max_new_tokens: Optional[int] = None, *,
                 stop: bool = True, timing: Optional[dict] = None) -> list[int]:
        """Generated token ids (stop token excluded) for one (1, T, H) prompt; ``stop=False`` ignores stop tokens.

        ``timing``: a dict filled with ``prefill_ms``, ``decode_ms`` and ``decode_steps`` (synchronising the
        device, for benchmarks).
        """
        if inputs_embeds.ndim != 3 or inputs_embeds.shape[0] != 1:
            raise GenerationError(f"expected (1, T, H) prompt embeddings, got {tuple(inputs_embeds.shape)}")
        budget = self.settings.max_new_tokens if max_new_tokens is None else int(max_new_tokens)
        if budget < 1:
            raise GenerationError(f"max_new_tokens must be >= 1, got {budget}")
        length = inputs_embeds.shape[1]
        cache = self._cache(length + budget)
        generator = None
        if self.settings.do_sample:
            generator = torch.Generator(device=self._device).manual_seed(self.settings.seed)
        clock = _Clock(self._device) if timing is not None else None
        positions = torch.arange(length, device=self._device)[None]
        out = self.llm(inputs_embeds=inputs_embeds, position_ids=positions, past_key_values=cache, use_cache=True,
                       logits_to_keep=1)
        token = _pick(out.logits[:, -1, :], self.settings, generator)
        if clock is not None:
            timing["prefill_ms"] = clock.lap()
        tokens: list[int] = []
        steps = 0
        position = torch.tensor([[length]], device=self._device)
        for _ in range(budget):
            value = int(token.item())
            if stop and value in self.stop_ids:
                break
            tokens.append(value)
            if len(tokens) == budget:
                break
            logits = self._decode(token[:, None], position, cache)
            token = _pick(logits, self.settings, generator)
            position = position + 1
            steps += 1
        if clock is not None:
            timing["decode_ms"], timing["decode_steps"] = clock.lap(), steps
        return tokens


class _Clock:
    """Wall-clock laps in milliseconds, synchronising CUDA first."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.last = self._now()

    def _now(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    def lap(self) -> float:
        now = self._now()
        elapsed, self.last = (now - self.last) * 1e3, now
        return elapsed
