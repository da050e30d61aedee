"""Hyperparameter search: spaces, strategies, and runners on Optuna."""

from fcnet.search.space import Choice, Int, LogUniform, Param, Uniform, parse_param, parse_space
from fcnet.search.strategies import edge_warnings, grid_points, narrow_space, random_points

__all__ = ["Choice", "Int", "LogUniform", "Param", "Uniform", "edge_warnings", "grid_points", "narrow_space",
           "parse_param", "parse_space", "random_points"]
