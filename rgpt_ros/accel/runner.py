"""The one interface every runtime implements: ``runner.run({name: array}) -> {name: torch.Tensor}``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Mapping, Union

import numpy as np
import torch

from rgpt_ros.accel.parts import ModelPart, TensorSpec

ArrayLike = Union[np.ndarray, torch.Tensor]


class RuntimeUnavailableError(RuntimeError):
    """The requested runtime cannot run here (library, GPU or provider missing)."""


class RunnerInputError(ValueError):
    """Inputs do not match the runner's static names/shapes."""


class Runner(ABC):
    """A model part behind one runtime.

    ``provider`` names what actually runs it: ``tensorrt``, ``ort:TensorrtExecutionProvider``,
    ``ort:CUDAExecutionProvider``, ``ort:CPUExecutionProvider``, ``torch-eager``, ``torch-cuda-graph``,
    ``torch-compile``. Outputs are torch tensors (CPU for ONNX Runtime on CPU, the GPU otherwise).
    """

    provider: str = ""

    def __init__(self, part: ModelPart):
        self.part_name = part.name
        self.inputs: tuple[TensorSpec, ...] = part.inputs
        self.output_names: tuple[str, ...] = part.output_names

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.inputs)

    def check_inputs(self, inputs: Mapping[str, ArrayLike]) -> None:
        """Raise :class:`RunnerInputError` naming the offending input when names or shapes differ."""
        missing = [n for n in self.input_names if n not in inputs]
        extra = [n for n in inputs if n not in self.input_names]
        if missing or extra:
            raise RunnerInputError(f"{self.part_name}: inputs {sorted(inputs)} do not match {list(self.input_names)}"
                                   f" (missing {missing}, unexpected {extra})")
        for spec in self.inputs:
            shape = tuple(inputs[spec.name].shape)
            if shape != spec.shape:
                raise RunnerInputError(f"{self.part_name}: input {spec.name!r} has shape {shape}, the static "
                                       f"shape is {spec.shape} (re-export for other shapes)")

    def run(self, inputs: Mapping[str, ArrayLike]) -> dict[str, torch.Tensor]:
        """Run once; inputs may be numpy arrays or torch tensors on any device."""
        self.check_inputs(inputs)
        return self._run(inputs)

    @abstractmethod
    def _run(self, inputs: Mapping[str, ArrayLike]) -> dict[str, torch.Tensor]:
        ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.part_name!r}, provider={self.provider!r})"


def as_torch(value: ArrayLike, device: torch.device, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A tensor on ``device`` (floating values cast to ``dtype`` when given)."""
    tensor = torch.from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray) else value
    if dtype is not None and tensor.is_floating_point():
        tensor = tensor.to(dtype)
    return tensor.to(device, non_blocking=True)


def as_numpy(value: ArrayLike, dtype: np.dtype | None = None) -> np.ndarray:
    """A contiguous host array (cast to ``dtype`` when given)."""
    array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    return np.ascontiguousarray(array if dtype is None else array.astype(dtype, copy=False))
