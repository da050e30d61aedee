"""Errors a user can fix: the command line prints them as one line and exits with code 2."""

from __future__ import annotations

__all__ = ["ConfigError", "DataError", "DivergenceError", "FcnetError", "ModelFileError"]


class FcnetError(Exception):
    """Base of errors caused by input (data, configuration, files), not by a bug."""

    exit_code = 2


class DataError(FcnetError, ValueError):
    """A data set is missing, malformed or inconsistent."""


class ConfigError(FcnetError, ValueError):
    """A configuration key or value is wrong."""


class ModelFileError(FcnetError, ValueError):
    """A saved model or checkpoint is missing, truncated or corrupted."""


class DivergenceError(FcnetError, ArithmeticError):
    """The loss became NaN or infinite during training."""

    exit_code = 3
