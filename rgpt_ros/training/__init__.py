"""Spatial QA generation from RGB-D frames and fine-tuning of SpatialRGPT (see docs/TRAINING.md).

Data: :func:`rgpt_ros.training.make_qa.make_qa` (``rgpt-make-qa``). Training:
:class:`rgpt_ros.training.trainer.Trainer` with :class:`rgpt_ros.training.trainer.TrainConfig` (``rgpt-train``).
"""
