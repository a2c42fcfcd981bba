"""The one error type for bad parameters."""

from __future__ import annotations

from typing import Any


class ParameterError(ValueError):
    """A parameter has a value that is not allowed.

    The message names the parameter, the value given and what is allowed, e.g.
    ``n_train = -5 is not allowed: expected a positive integer``.
    """

    def __init__(self, name: str, value: Any, allowed: str):
        self.name, self.value, self.allowed = name, value, allowed
        super().__init__(f"{name} = {value!r} is not allowed: expected {allowed}")
