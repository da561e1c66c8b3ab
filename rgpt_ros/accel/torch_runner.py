"""PyTorch runtimes: eager, CUDA graphs (one static capture), and ``torch.compile``."""

from __future__ import annotations

import logging
from typing import Mapping, Optional

import torch

from rgpt_ros.accel.parts import ModelPart
from rgpt_ros.accel.runner import ArrayLike, Runner, RuntimeUnavailableError, as_torch

log = logging.getLogger(__name__)

TORCH_MODES = ("eager", "cuda_graph", "compile")


class TorchRunner(Runner):
    """Run the part's own module.

    mode ``eager``: plain inference; ``cuda_graph``: capture once on static buffers and replay (CUDA only,
    outputs are copies); ``compile``: ``torch.compile(module, mode=compile_mode, backend=compile_backend)``
    with ``compile_mode`` defaulting to ``reduce-overhead`` (compiled kernels + CUDA graphs) on CUDA.
    """

    def __init__(self, part: ModelPart, mode: str = "eager", *, warmup: int = 3,
                 compile_mode: Optional[str] = None, compile_backend: str = "inductor"):
        if mode not in TORCH_MODES:
            raise ValueError(f"unknown torch mode {mode!r}; expected one of {TORCH_MODES}")
        super().__init__(part)
        self.mode = mode
        self.module = part.module.eval()
        self.device = part.device
        self.dtype = part.dtype
        self.provider = f"torch-{mode.replace('_', '-')}"
        self._outputs_as_dict = part.outputs_as_dict
        self._graph: torch.cuda.CUDAGraph | None = None
        self._graphed_compile = (mode == "compile" and self.device.type == "cuda" and compile_backend == "inductor"
                                 and compile_mode in (None, "reduce-overhead", "max-autotune"))
        if mode == "cuda_graph":
            if self.device.type != "cuda":
                raise RuntimeUnavailableError(f"CUDA graphs need the module on a CUDA device, it is on {self.device}")
            self._capture(part, warmup)
        elif mode == "compile":
            if compile_mode is None and compile_backend == "inductor":
                compile_mode = "reduce-overhead" if self.device.type == "cuda" else "default"
            self._call = torch.compile(self.module, mode=compile_mode if compile_backend == "inductor" else None,
                                       backend=compile_backend, dynamic=False)
            with torch.inference_mode():
                for _ in range(max(1, warmup)):  # compile now, not on the first real frame
                    self._call(*part.example_inputs().values())
        else:
            self._call = self.module

    def _capture(self, part: ModelPart, warmup: int) -> None:
        self._static_in = part.example_inputs()
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.inference_mode(), torch.cuda.stream(stream):
            for _ in range(max(1, warmup)):
                self.module(*self._static_in.values())
        torch.cuda.current_stream().wait_stream(stream)
        self._graph = torch.cuda.CUDAGraph()
        with torch.inference_mode(), torch.cuda.graph(self._graph):
            self._static_out = part.outputs_as_dict(self.module(*self._static_in.values()))
        log.info("captured a CUDA graph for %s", part.name)

    def _run(self, inputs: Mapping[str, ArrayLike]) -> dict[str, torch.Tensor]:
        if self._graph is not None:
            for name, buffer in self._static_in.items():
                buffer.copy_(as_torch(inputs[name], self.device, buffer.dtype))
            self._graph.replay()
            return {name: out.clone() for name, out in self._static_out.items()}
        args = [as_torch(inputs[name], self.device, self.dtype) for name in self.input_names]
        with torch.inference_mode():
            if not self._graphed_compile:
                return self._outputs_as_dict(self._call(*args))
            torch.compiler.cudagraph_mark_step_begin()  # reduce-overhead replays into reused output buffers
            return {name: out.clone() for name, out in self._outputs_as_dict(self._call(*args)).items()}
