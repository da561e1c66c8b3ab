"""Monocular depth from RGB with Depth Anything (V1/V2, relative or metric), eager or accelerated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence, Union

import numpy as np
import torch

from rgpt_ros.depth.loading import load_depth_model

if TYPE_CHECKING:  # pragma: no cover
    from rgpt_ros.accel.parts import ModelPart
    from rgpt_ros.accel.runners import Runner

PATCH = 14
InputSize = Union[None, int, Sequence[int]]


@dataclass(frozen=True)
class DepthPrediction:
    """One depth map at the input image's size.

    depth:  (H, W) float32; metres when ``metric`` else relative *inverse* depth (larger = nearer, no unit).
    metric: True for metric checkpoints (``depth_estimation_type == "metric"``).
    """

    depth: np.ndarray
    metric: bool

    @property
    def kind(self) -> str:
        """``"metric"`` or ``"relative_inverse"``."""
        return "metric" if self.metric else "relative_inverse"


def check_rgb(rgb: np.ndarray) -> np.ndarray:
    """Validate an (H, W, 3) uint8 RGB image."""
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        desc = f"{rgb.shape} {rgb.dtype}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise ValueError(f"rgb must be an (H, W, 3) uint8 array, got {desc}")
    if rgb.shape[0] < 2 or rgb.shape[1] < 2:
        raise ValueError(f"rgb image too small: {rgb.shape}")
    return rgb


def normalize_input_size(input_size: InputSize) -> Optional[tuple[int, int]]:
    """``None`` (keep aspect, processor default) or a fixed (height, width), both multiples of 14."""
    if input_size is None:
        return None
    hw = (int(input_size), int(input_size)) if np.isscalar(input_size) else tuple(int(v) for v in input_size)
    if len(hw) != 2 or min(hw) < PATCH or any(v % PATCH for v in hw):
        raise ValueError(f"input_size must be a positive multiple of {PATCH} (or a pair of them), got {input_size!r}")
    return hw  # type: ignore[return-value]


def processor_normalisation(processor) -> tuple[float, Sequence[float], Sequence[float]]:
    """(rescale factor, mean, std) an image processor applies after resizing."""
    scale = float(getattr(processor, "rescale_factor", 1 / 255)) if getattr(processor, "do_rescale", True) else 1.0
    if not getattr(processor, "do_normalize", True):
        return scale, (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    return scale, tuple(processor.image_mean), tuple(processor.image_std)


class DepthEstimator:
    """RGB (H, W, 3) uint8 -> :class:`DepthPrediction` at (H, W).

    ``input_size`` fixes the network input (e.g. 518) so static-shape engines can run it; ``None`` keeps
    the checkpoint's own preprocessing (aspect kept, sides multiples of 14). ``runner`` (an
    :class:`rgpt_ros.accel.Runner` made from :meth:`model_part`) replaces the eager model.
    """

    def __init__(self, model, processor, *, device: Union[str, torch.device] = "cpu",
                 dtype: torch.dtype = torch.float32, input_size: InputSize = None, name: str = "",
                 device_preprocess: bool = False):
        self.model = model.to(device=device, dtype=dtype).eval()
        self.processor = processor
        self.device = torch.device(device)
        self.dtype = dtype
        self.input_size = normalize_input_size(input_size)
        self.name = name or getattr(model.config, "_name_or_path", "") or "depth_anything"
        self.runner: Optional["Runner"] = None
        if device_preprocess and self.input_size is None:
            raise ValueError("device_preprocess needs a fixed input_size (e.g. 518)")
        self.device_preprocess = device_preprocess
        self._scale, mean, std = processor_normalisation(processor)
        self._mean = torch.tensor(mean, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)
        self._std = torch.tensor(std, dtype=torch.float32, device=self.device).view(1, 3, 1, 1)

    @classmethod
    def from_pretrained(cls, path_or_id: Union[str, Path], *, device: Union[str, torch.device] = "cpu",
                        dtype: torch.dtype = torch.float32, input_size: InputSize = None,
                        local_files_only: Optional[bool] = None, revision: Optional[str] = None,
                        cache_dir: Optional[str] = None, device_preprocess: bool = False) -> "DepthEstimator":
        """Load a Depth Anything checkpoint (folder or hub id; offline mode honoured)."""
        model, processor = load_depth_model(path_or_id, local_files_only=local_files_only, revision=revision,
                                            cache_dir=cache_dir, dtype=dtype)
        return cls(model, processor, device=device, dtype=dtype, input_size=input_size, name=str(path_or_id),
                   device_preprocess=device_preprocess)

    @property
    def metric(self) -> bool:
        """True when the model predicts metres."""
        return self.model.config.depth_estimation_type == "metric"

    @property
    def max_depth(self) -> Optional[float]:
        """The metric head's range in metres (None for relative models)."""
        return float(self.model.config.max_depth) if self.metric else None

    def preprocess(self, rgb: np.ndarray) -> torch.Tensor:
        """(1, 3, h, w) normalised pixel values on the estimator's device and dtype.

        By default the checkpoint's image processor (PIL bicubic) does it on the CPU; ``device_preprocess``
        resizes on the estimator's device instead (torch bicubic with antialiasing: on average well under one
        grey level from PIL, a few at sharp edges), which saves ~10 ms per 640x480 frame on a GPU.
        """
        check_rgb(rgb)
        if self.device_preprocess:
            return self._preprocess_on_device(rgb)
        overrides = {}
        if self.input_size is not None:
            overrides = dict(keep_aspect_ratio=False, size={"height": self.input_size[0], "width": self.input_size[1]})
        pixels = self.processor(images=rgb, return_tensors="pt", **overrides)["pixel_values"]
        return pixels.to(device=self.device, dtype=self.dtype)

    def _preprocess_on_device(self, rgb: np.ndarray) -> torch.Tensor:
        # Decoded images may be read-only views of the received message; torch wants its own writable memory.
        image = torch.from_numpy(np.require(rgb, requirements=("C", "W"))).to(self.device)
        image = image.permute(2, 0, 1)[None].float()
        image = torch.nn.functional.interpolate(image, size=self.input_size, mode="bicubic", align_corners=False,
                                                antialias=True).round_().clamp_(0, 255)
        return ((image * self._scale - self._mean) / self._std).to(self.dtype)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """(B, 3, h, w) -> (B, h, w) raw network output (through the runner when one is set)."""
        if self.runner is not None:
            return torch.as_tensor(self.runner.run({"pixel_values": pixel_values})["predicted_depth"])
        with torch.inference_mode():
            return self.model(pixel_values=pixel_values).predicted_depth

    def predict(self, rgb: np.ndarray) -> DepthPrediction:
        """Depth for one RGB image, resized back (bilinear) to the image's size."""
        height, width = check_rgb(rgb).shape[:2]
        raw = self.forward(self.preprocess(rgb)).float()
        if raw.shape[-2:] != (height, width):
            raw = torch.nn.functional.interpolate(raw[:, None], size=(height, width), mode="bilinear",
                                                  align_corners=False)[:, 0]
        return DepthPrediction(depth=raw[0].cpu().numpy().astype(np.float32, copy=False), metric=self.metric)

    # --- acceleration -------------------------------------------------------------------------------------
    def model_part(self, batch: int = 1) -> "ModelPart":
        """The network as a static-shape :class:`~rgpt_ros.accel.parts.ModelPart` (needs ``input_size``)."""
        from rgpt_ros.accel.parts import depth_model_part

        if self.input_size is None:
            raise ValueError("acceleration needs a fixed input_size (e.g. 518): static-shape engines cannot "
                             "follow the keep-aspect preprocessing")
        return depth_model_part(self.model, self.input_size, batch=batch, name=Path(self.name).name or "depth")

    def accelerate(self, preference: Union[str, Sequence[str]] = "auto", **options) -> "DepthEstimator":
        """Pick the fastest available runtime (see :func:`rgpt_ros.accel.select_runner`); returns self."""
        from rgpt_ros.accel.select import select_runner

        self.runner = select_runner(self.model_part(), preference=preference, **options)
        return self
