"""The ``spatialrgpt`` engine: the SpatialRGPT model behind the SpatialEngine interface.

One frame is encoded once (image, depth image, every region) and reused by all questions about it.
Depth image source, in order: the ``depth_estimator`` when given, the frame's sensor depth (1/depth,
min-max to uint8), otherwise the RGB image itself (what the reference does without depth).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, Union

import numpy as np
import torch

from rgpt_ros.engines.base import SpatialAnswer
from rgpt_ros.frame import RGBDFrame
from rgpt_ros.geometry.camera import CameraIntrinsics
from rgpt_ros.geometry.regions import Region, RegionError
from rgpt_ros.model.generation import GenerationSettings, Generator
from rgpt_ros.model.modeling import FrameEncoding, SpatialRGPTForCausalLM, default_dtype
from rgpt_ros.model.preprocess import (MODEL_IMAGE_SIZE, depth_to_model_image, image_to_pixel_values, region_mask,
                                       resize_mask)
from rgpt_ros.model.prompt import (STOP_TOKEN, PromptError, answer_region, build_prompt, display_name, expand_regions,
                                   is_bench_style, map_answer_regions, tokenize_with_image)
from rgpt_ros.qa.answers import refusal_text
from rgpt_ros.qa.categories import get_category
from rgpt_ros.qa.questions import parse_question
from rgpt_ros.qa.references import ReferenceError
from rgpt_ros.qa.units import parse_clock, parse_length, parse_yes_no

DEFAULT_CHECKPOINT = "a8cheng/SpatialRGPT-VILA1.5-8B"
DEPTH_SOURCES = ("auto", "estimator", "sensor", "rgb")
_DTYPES = {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16,
           "half": torch.float16, "fp32": torch.float32, "float32": torch.float32, "float": torch.float32}


def parse_dtype(dtype: Union[None, str, torch.dtype], device: Union[str, torch.device]) -> torch.dtype:
    """``None``/"auto" -> bf16 on CUDA, fp32 on CPU; "bf16"/"fp16"/"fp32" or a torch.dtype as given."""
    if dtype is None or dtype == "auto":
        return default_dtype(device)
    if isinstance(dtype, torch.dtype):
        return dtype
    if str(dtype).lower() not in _DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; choose one of auto, {', '.join(sorted(_DTYPES))}")
    return _DTYPES[str(dtype).lower()]


@dataclass
class _EncodedFrame:
    frame: RGBDFrame
    regions: tuple[Region, ...]
    encoding: FrameEncoding
    region_errors: dict[int, str]
    depth_kind: str


class SpatialRGPTEngine:
    """SpatialEngine running SpatialRGPT (the published checkpoint, a fine-tune, or a test checkpoint).

    checkpoint: folder or hub id (offline mode honoured); device: "cuda"/"cpu" (default: CUDA when available);
    dtype: "auto" (bf16 on GPU, fp32 on CPU), "bf16", "fp16", "fp32"; max_new_tokens: answer length limit;
    depth_estimator: a rgpt_ros.depth DepthEstimator (``predict``), a depth source callable
    ``rgb -> (depth, metric)``, or a checkpoint path/id for one; depth_source: "auto" | "estimator" | "sensor"
    | "rgb"; do_sample/temperature/top_p/seed: sampling (greedy by default); static_cache/compile: decoding
    speed-ups (default on CUDA: static cache + compile); model: an already loaded SpatialRGPTForCausalLM.
    """

    name = "spatialrgpt"
    needs_metric_depth = False

    def __init__(self, checkpoint: Union[str, os.PathLike, None] = DEFAULT_CHECKPOINT, device: Optional[str] = None,
                 dtype: Union[None, str, torch.dtype] = None, max_new_tokens: int = 128, depth_estimator: Any = None,
                 *, depth_source: str = "auto", do_sample: bool = False, temperature: float = 1.0, top_p: float = 1.0,
                 seed: int = 0, static_cache: Optional[bool] = None, compile: Optional[bool] = None,
                 local_files_only: Optional[bool] = None, model: Optional[SpatialRGPTForCausalLM] = None) -> None:
        if depth_source not in DEPTH_SOURCES:
            raise ValueError(f"depth_source {depth_source!r} unknown; choose one of {DEPTH_SOURCES}")
        if model is None:
            if checkpoint is None:
                raise ValueError("spatialrgpt engine: pass checkpoint= (folder or hub id) or model=")
            if device in (None, "", "auto"):
                device = "cuda" if torch.cuda.is_available() else "cpu"
            model = SpatialRGPTForCausalLM.from_pretrained(checkpoint, device=device, dtype=parse_dtype(dtype, device),
                                                           local_files_only=local_files_only)
        self.model = model
        on_cuda = model.device.type == "cuda"
        use_static = on_cuda if static_cache is None else bool(static_cache)
        use_compile = (on_cuda and use_static) if compile is None else bool(compile)
        self.settings = GenerationSettings(max_new_tokens=max_new_tokens, do_sample=do_sample, temperature=temperature,
                                           top_p=top_p, seed=seed, static_cache=use_static, compile=use_compile)
        tokenizer = model.tokenizer
        stops = {model.token_id(STOP_TOKEN)}
        if tokenizer.eos_token_id is not None:
            stops.add(int(tokenizer.eos_token_id))
        self.generator = Generator(model.llm, sorted(stops), self.settings)
        if use_compile:
            model.compile_vision()
        self.depth_source = depth_source
        self.depth_estimator = _as_depth_function(depth_estimator, str(model.device))
        if depth_source == "estimator" and self.depth_estimator is None:
            raise ValueError("depth_source='estimator' needs a depth_estimator")
        self._cached: Optional[_EncodedFrame] = None

    # ------------------------------------------------------------------ SpatialEngine
    def answer(self, frame: RGBDFrame, regions: Sequence[Region], question: str) -> SpatialAnswer:
        return self.answer_many(frame, regions, [question])[0]

    def answer_many(self, frame: RGBDFrame, regions: Sequence[Region], questions: Sequence[str]) -> list[SpatialAnswer]:
        """Encode the frame and all regions once, then answer each question."""
        encoded = self.encode(frame, regions)
        return [self._answer_one(encoded, question) for question in questions]

    def warmup(self, n_regions: int = 2) -> None:
        """Answer one synthetic question so that compilation / CUDA-graph capture happens now (e.g. at node
        start-up) rather than on the first real question. Decodes a few tokens regardless of stop tokens."""
        size = MODEL_IMAGE_SIZE
        rgb = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
        frame = RGBDFrame(rgb, np.full((size, size), 2.0, np.float32), CameraIntrinsics.from_fov(size, size))
        step = size // (n_regions + 1)
        regions = [Region(f"warmup{i}", box=(i * step, i * step, (i + 1) * step, (i + 1) * step))
                   for i in range(n_regions)]
        question = "How far apart are " + " and ".join(f"<region{i}>" for i in range(n_regions)) + "?"
        prompt = expand_regions(question, regions, with_depth=self.model.config.enable_depth)
        encoded = self.encode(frame, regions)
        embeds = self.model.prompt_embeds(tokenize_with_image(build_prompt(prompt.text), self.model.tokenizer),
                                          encoded.encoding, prompt.mentions)
        self.generator.generate(embeds, max_new_tokens=min(3, self.settings.max_new_tokens), stop=False)
        self._cached = None

    # ------------------------------------------------------------------ pieces
    def depth_image(self, frame: RGBDFrame) -> tuple[np.ndarray, str]:
        """The model's (H, W, 3) uint8 depth image for ``frame`` and where it came from."""
        source = self.depth_source
        if source in ("auto", "estimator") and self.depth_estimator is not None:
            depth, metric = self.depth_estimator(frame.rgb)
            if depth is not None:
                return depth_to_model_image(depth, is_inverse=not metric), "estimator"
            if source == "estimator":
                raise ValueError("the depth estimator returned no depth")
        if source in ("auto", "sensor") and frame.depth is not None and np.isfinite(frame.depth).any():
            return depth_to_model_image(frame.depth, is_inverse=False), "sensor"
        if source == "sensor":
            raise ValueError("depth_source='sensor' but the frame has no valid depth")
        return frame.rgb, "rgb"

    def encode(self, frame: RGBDFrame, regions: Sequence[Region]) -> _EncodedFrame:
        """Encode the frame with all regions (cached for the same frame object and equal regions)."""
        cached = self._cached
        if cached is not None and cached.frame is frame and \
                [_region_key(r) for r in cached.regions] == [_region_key(r) for r in regions]:
            return cached
        height, width = frame.height, frame.width
        masks = np.zeros((len(regions), MODEL_IMAGE_SIZE, MODEL_IMAGE_SIZE), dtype=np.float32)
        errors: dict[int, str] = {}
        for i, region in enumerate(regions):
            try:
                masks[i] = resize_mask(region_mask(region, height, width))
            except RegionError as exc:
                errors[i] = str(exc)
        pixels = torch.from_numpy(image_to_pixel_values(frame.rgb))[None]
        depth_pixels, kind = None, "none"
        if self.model.config.enable_depth:
            depth_rgb, kind = self.depth_image(frame)
            depth_pixels = torch.from_numpy(image_to_pixel_values(depth_rgb))[None]
        encoding = self.model.encode_frame(pixels, depth_pixels, torch.from_numpy(masks)[None])
        self._cached = _EncodedFrame(frame, tuple(regions), encoding, errors, kind)
        return self._cached

    def _answer_one(self, encoded: _EncodedFrame, question: str) -> SpatialAnswer:
        regions = encoded.regions
        try:
            prompt = expand_regions(question, regions, with_depth=self.model.config.enable_depth)
        except (ReferenceError, PromptError) as exc:
            return _refuse(str(exc))
        bad = sorted({i for i in prompt.mentions if i in encoded.region_errors})
        if bad:
            return _refuse("; ".join(encoded.region_errors[i] for i in bad))
        ids = tokenize_with_image(build_prompt(prompt.text), self.model.tokenizer)
        try:
            embeds = self.model.prompt_embeds(ids, encoded.encoding, prompt.mentions)
        except PromptError as exc:  # e.g. a question that spells a region token the tokenizer splits oddly
            return _refuse(str(exc))
        tokens = self.generator.generate(embeds)
        raw = self.model.tokenizer.decode(tokens, skip_special_tokens=True).strip()
        answer = interpret_answer(raw, question, regions)
        answer.details.update({"tokens": len(tokens), "prompt_tokens": int(embeds.shape[1]),
                               "depth_source": encoded.depth_kind})
        return answer


def interpret_answer(raw: str, question: str, regions: Sequence[Region]) -> SpatialAnswer:
    """A model answer as a SpatialAnswer: ``Region [k]`` renamed to the user's regions (k = k-th distinct region
    of the question), category from the question, value/unit, yes or choice read with the shared parsers."""
    resolved = expand_regions(question, regions).resolved
    order = resolved.distinct
    bench = is_bench_style(question)
    category = _category(question, regions)
    answer = SpatialAnswer(True, map_answer_regions(raw, order, regions, bench), category=category,
                           source="spatialrgpt", details={"raw_answer": raw})
    _fill_values(answer, raw, category, order, regions, bench)
    return answer


def _category(question: str, regions: Sequence[Region]) -> Optional[str]:
    try:
        parsed = parse_question(question, regions)
    except ValueError:
        return None
    return parsed.category if parsed is not None else None


def _fill_values(answer: SpatialAnswer, raw: str, category: Optional[str], order: Sequence[int],
                 regions: Sequence[Region], bench: bool) -> None:
    """value/unit, yes or choice from the model's raw answer, read with the shared parsers."""
    kind = get_category(category).answer if category else None
    if kind == "predicate":
        answer.yes = parse_yes_no(raw)
        return
    if kind == "choice":
        index = answer_region(raw, order)
        if index is None:  # the answer may name the region by the user's id
            lowered = answer.text.lower()
            hits = [(lowered.find(display_name(regions, i, bench).lower()), i) for i in order]
            hits = [hit for hit in hits if hit[0] >= 0]
            index = min(hits)[1] if hits else None
        answer.choice = regions[index].id if index is not None else None
        return
    if kind in (None, "clock"):
        hour = parse_clock(raw)
        if hour is not None:
            answer.value, answer.unit = float(hour), "oclock"
            return
    if kind in (None, "length"):
        metres = parse_length(raw)
        if metres is not None:
            answer.value, answer.unit = metres, "m"


def _region_key(region: Region) -> tuple:
    """Content identity of a region (so equal regions rebuilt per question reuse the frame encoding)."""
    if region.mask is not None:
        mask = np.asarray(region.mask)
        return region.id, "mask", mask.shape, hash(np.ascontiguousarray(mask).tobytes())
    shape = region.box if region.box is not None else region.rle if region.rle is not None else region.polygon
    return region.id, region.kind, repr(shape)


def _as_depth_function(estimator: Any, device: str) -> Optional[Callable[[np.ndarray], tuple[Optional[np.ndarray], bool]]]:
    """Normalise the depth_estimator option to ``rgb -> (depth or None, metric)``."""
    if estimator is None or estimator == "":
        return None
    if isinstance(estimator, (str, os.PathLike)):
        from rgpt_ros.depth.source import make_depth_source

        return make_depth_source(estimator, device=device)
    if hasattr(estimator, "predict"):
        def predict(rgb: np.ndarray) -> tuple[Optional[np.ndarray], bool]:
            prediction = estimator.predict(rgb)
            return prediction.depth, bool(prediction.metric)
        return predict
    if callable(estimator):
        return estimator
    raise ValueError(f"depth_estimator must be a DepthEstimator, a callable rgb -> (depth, metric) or a checkpoint "
                     f"path/id, got {type(estimator).__name__}")


def _refuse(reason: str, category: Optional[str] = None) -> SpatialAnswer:
    return SpatialAnswer(False, refusal_text(reason), category=category, message=reason, source="spatialrgpt")
