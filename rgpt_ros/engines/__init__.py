"""Answer engines behind one interface: ``geometric`` (metric depth) and ``spatialrgpt`` (the VLM)."""

from rgpt_ros.engines.base import SpatialAnswer, SpatialEngine, available_engines, make_engine, register_engine

__all__ = ["SpatialAnswer", "SpatialEngine", "available_engines", "make_engine", "register_engine"]
