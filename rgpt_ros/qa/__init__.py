"""Spatial question answering without a model: references, categories, parsing, answers, scoring."""
