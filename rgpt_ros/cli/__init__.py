"""Console scripts (rgpt-bench, ...)."""
