"""Parameter declaration and validation shared by every rgpt_ros node."""

from __future__ import annotations

from typing import Any, Iterable

from rcl_interfaces.msg import ParameterDescriptor
from rclpy.node import Node

from rgpt_ros.ros.parameters import Param, ParameterError


def declare_and_validate(node: Node, params: Iterable[Param]) -> dict[str, Any]:
    """Declare ``params`` on ``node`` (with descriptions) and return their validated values.

    Raises ParameterError naming the parameter; nodes let it end start-up with that message.
    """
    values: dict[str, Any] = {}
    for param in params:
        descriptor = ParameterDescriptor(description=param.description, read_only=False)
        value = node.declare_parameter(param.name, param.default, descriptor).value
        values[param.name] = param.validate(value)
    return values


def up_vector_or_none(value: list[float]) -> list[float] | None:
    """The ``up_vector`` parameter: None means 'estimate from the support plane'."""
    return list(value) if len(value) == 3 else None


__all__ = ["declare_and_validate", "up_vector_or_none", "ParameterError"]
