"""Input checks shared by the stage modules, with messages that name the argument."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike


def finite_array(values: ArrayLike, name: str, ndims: tuple[int, ...] = (1,)) -> np.ndarray:
    """``values`` as a non-empty float array of an allowed dimension, with no NaN or inf.

    Raises
    ------
    ValueError
        Naming ``name`` and what was wrong: the dimension, emptiness, a
        non-numeric dtype, NaN (with a count) or infinite values.
    """
    arr = np.asarray(values)
    if arr.ndim not in ndims:
        allowed = " or ".join(f"{d}-dimensional" for d in ndims)
        raise ValueError(f"{name} must be {allowed}, got an array of shape {arr.shape}")
    if arr.size == 0 or arr.shape[0] == 0:
        raise ValueError(f"{name} is empty; at least one example is required")
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}") from None
    n_nan = int(np.isnan(arr).sum())
    if n_nan:
        raise ValueError(f"{name} contains {n_nan} NaN value(s); every example needs a value")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains infinite values; every value must be finite")
    return arr


def integer_at_least(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` as an int, if it is an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def positive_number(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """``value`` as a float, if it is a finite real number > 0 (>= 0 with ``allow_zero``)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    ok = ok and math.isfinite(float(value)) and (float(value) >= 0 if allow_zero else float(value) > 0)
    if not ok:
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")
    return float(value)


def one_of(value: Any, name: str, choices: Sequence[str]) -> str:
    """``value``, if it is one of the strings in ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def apply_scorer(scorer: Any, frame: Any) -> np.ndarray:
    """``scorer(frame)`` checked against the scorer contract: one P(fraud) in [0, 1] per row.

    Returns a float64 array of shape ``(len(frame),)``; raises ``ValueError``
    for a scorer that is not callable, returns another shape, or returns
    anything outside [0, 1] (NaN included).
    """
    if not callable(scorer):
        raise ValueError(f"a scorer must be callable (frame -> P(fraud)), got {type(scorer).__name__}")
    scores = np.asarray(scorer(frame), dtype=np.float64)
    if scores.shape != (len(frame),):
        raise ValueError(f"a scorer must return shape ({len(frame)},) for {len(frame)} rows, got {scores.shape}")
    if not np.all(np.isfinite(scores) & (scores >= 0) & (scores <= 1)):
        raise ValueError("a scorer must return probabilities in [0, 1] (no NaN)")
    return scores
