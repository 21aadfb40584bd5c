"""Input checks shared by the stage modules, with messages that name the argument.

Each function checks one contract and returns the value in the form the
caller computes with (a float, an int, an array), or raises ``ValueError``
with a message that starts with the argument's name. A stage module keeps a
check of its own only when no other module needs it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike

__all__ = [
    "apply_scorer",
    "binary_labels",
    "data_frame",
    "finite_array",
    "finite_number",
    "fraction",
    "integer_at_least",
    "number_in",
    "one_of",
    "positive_number",
    "random_seed",
    "require_target",
    "same_length",
    "unbox_numbers",
]

Inclusive = Literal["both", "neither", "left", "right"]
_INCLUSIVE = ("both", "neither", "left", "right")


# ---------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------


def _is_real(value: Any) -> bool:
    """A real number that is not a bool (``True`` is not a count or a rate)."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def number_in(
    value: Any, name: str, low: float = -math.inf, high: float = math.inf, *, inclusive: Inclusive = "both"
) -> float:
    """``value`` as a float, if it is a finite real number (not a bool) between ``low`` and ``high``.

    ``inclusive`` says which bounds are allowed, as in ``pandas.Series.between``:
    ``"both"`` (``[low, high]``), ``"neither"`` (``(low, high)``), ``"left"``
    (``[low, high)``) or ``"right"`` (``(low, high]``). An infinite bound is
    no bound; the value itself must always be finite.

    Examples
    --------
    >>> number_in(0.5, "alpha", 0.0, 1.0, inclusive="neither")
    0.5
    >>> number_in(1.0, "alpha", 0.0, 1.0, inclusive="neither")
    Traceback (most recent call last):
    ...
    ValueError: alpha must be a number in (0, 1), got 1.0
    >>> number_in(-1, "tol", 0.0)
    Traceback (most recent call last):
    ...
    ValueError: tol must be a finite number >= 0, got -1
    """
    if inclusive not in _INCLUSIVE:
        raise ValueError(f"inclusive must be one of {list(_INCLUSIVE)}, got {inclusive!r}")
    low_closed = inclusive in ("both", "left")
    high_closed = inclusive in ("both", "right")
    ok = _is_real(value) and math.isfinite(float(value))
    if ok:
        v = float(value)
        ok = (v >= low if low_closed else v > low) and (v <= high if high_closed else v < high)
    if not ok:
        raise ValueError(f"{name} must be {_describe_range(low, high, low_closed, high_closed)}, got {value!r}")
    return float(value)


def _describe_range(low: float, high: float, low_closed: bool, high_closed: bool) -> str:
    if math.isfinite(low) and math.isfinite(high):
        return f"a number in {'[' if low_closed else '('}{low:g}, {high:g}{']' if high_closed else ')'}"
    if math.isfinite(low):
        return f"a finite number {'>=' if low_closed else '>'} {low:g}"
    if math.isfinite(high):
        return f"a finite number {'<=' if high_closed else '<'} {high:g}"
    return "a finite number"


def finite_number(value: Any, name: str) -> float:
    """``value`` as a float, if it is a finite real number (not a bool)."""
    return number_in(value, name)


def positive_number(value: Any, name: str, *, allow_zero: bool = False) -> float:
    """``value`` as a float, if it is a finite real number > 0 (>= 0 with ``allow_zero``)."""
    return number_in(value, name, 0.0, inclusive="left" if allow_zero else "neither")


def fraction(value: Any, name: str, *, inclusive: Inclusive = "neither") -> float:
    """``value`` as a float, if it is a number between 0 and 1.

    The default is the open interval (0, 1): a share of the rows (``test_size``),
    a miscoverage or significance level (``alpha``), a confidence level or a
    quantile, where neither 0 nor 1 makes sense. Pass ``inclusive="both"`` for
    [0, 1], e.g. a constraint on a rate such as ``min_recall`` (0 means no
    constraint, 1 means every positive), or ``"left"``/``"right"`` for a
    half-open interval.

    Examples
    --------
    >>> fraction(0.2, "test_size")
    0.2
    >>> fraction(1.0, "min_recall", inclusive="both")
    1.0
    >>> fraction(1.0, "test_size")
    Traceback (most recent call last):
    ...
    ValueError: test_size must be a number in (0, 1), got 1.0
    """
    return number_in(value, name, 0.0, 1.0, inclusive=inclusive)


def integer_at_least(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` as an int, if it is an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def random_seed(value: Any, name: str = "seed") -> int:
    """``value`` as an int, if it can seed ``numpy.random.default_rng`` and torch: an integer >= 0."""
    return integer_at_least(value, name, 0)


def one_of(value: Any, name: str, choices: Sequence[str]) -> str:
    """``value``, if it is one of the strings in ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


# ---------------------------------------------------------------------------
# Arrays and frames
# ---------------------------------------------------------------------------


def finite_array(values: ArrayLike, name: str, ndims: tuple[int, ...] = (1,)) -> np.ndarray:
    """``values`` as a non-empty float array of an allowed dimension, with no NaN or inf.

    Raises
    ------
    ValueError
        Naming ``name`` and what was wrong: a sparse matrix, the dimension,
        emptiness (no rows, or no columns), a complex or non-numeric dtype,
        NaN (with a count) or infinite values.
    """
    if sp.issparse(values):
        raise ValueError(f"{name} is a sparse matrix; sparse input is not supported, pass a dense array")
    arr = np.asarray(values)
    if arr.ndim not in ndims:
        allowed = " or ".join(f"{d}-dimensional" for d in ndims)
        raise ValueError(f"{name} must be {allowed}, got an array of shape {arr.shape}")
    if arr.ndim == 2 and arr.shape[1] == 0 and arr.shape[0] > 0:
        raise ValueError(f"{name} has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    if arr.size == 0 or arr.shape[0] == 0:
        raise ValueError(f"{name} is empty; at least one example is required")
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} has complex values (dtype {arr.dtype}): Complex data not supported")
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


def binary_labels(values: ArrayLike, name: str = "y", *, both_classes: bool = False) -> np.ndarray:
    """``values`` as a non-empty 1-D int64 array of the labels 0 and 1 (booleans count as 0/1).

    With ``both_classes``, both labels must occur (a model cannot learn from one class).

    Examples
    --------
    >>> binary_labels([True, False, True]).tolist()
    [1, 0, 1]
    >>> binary_labels([0, 1, 2], "y_true")
    Traceback (most recent call last):
    ...
    ValueError: y_true must contain only the binary labels 0 and 1, got labels [0, 1, 2]
    """
    arr = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; at least one example is required")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int64)
    arr = unbox_numbers(arr)
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} has complex values (dtype {arr.dtype}): Complex data not supported")
    if arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must contain only the binary labels 0 and 1, got dtype {arr.dtype}")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name} contains {int(np.isnan(arr).sum())} NaN value(s); keep only labelled rows")
    present = np.unique(arr)
    if not np.isin(present, [0, 1]).all():
        if np.any(present != np.round(present)):
            raise ValueError(
                f"{name} must contain only the binary labels 0 and 1, got continuous values such as "
                f"{present[present != np.round(present)][:5].tolist()}; pass labels, not probabilities or scores"
            )
        raise ValueError(f"{name} must contain only the binary labels 0 and 1, got labels {present[:10].tolist()}")
    if both_classes and present.size < 2:
        raise ValueError(f"{name} must contain both classes 0 and 1, got only one class: {present.tolist()}")
    return arr.astype(np.int64)


def unbox_numbers(arr: np.ndarray) -> np.ndarray:
    """An object array that holds only numbers (e.g. labels from a pandas column) as float64; else ``arr`` unchanged.

    Strings stay strings (``float("1")`` would turn the text ``"1"`` into a label).

    Examples
    --------
    >>> unbox_numbers(np.array([0, 1], dtype=object)).dtype
    dtype('float64')
    >>> unbox_numbers(np.array(["0", "1"], dtype=object)).dtype
    dtype('O')
    """
    if arr.dtype.kind != "O" or any(isinstance(v, (str, bytes)) for v in arr.flat):
        return arr
    try:
        return arr.astype(np.float64)
    except (TypeError, ValueError):
        return arr


def same_length(*named: tuple[Any, str]) -> None:
    """Check that every ``(values, name)`` pair has as many rows as the first.

    Examples
    --------
    >>> same_length(([0, 1, 1], "y_true"), ([0.2, 0.4], "y_prob"))
    Traceback (most recent call last):
    ...
    ValueError: y_true and y_prob must have the same length, got 3 and 2
    """
    (first, first_name), *rest = named
    for values, name in rest:
        if _n_rows(values) != _n_rows(first):
            raise ValueError(
                f"{first_name} and {name} must have the same length, got {_n_rows(first)} and {_n_rows(values)}"
            )


def _n_rows(values: Any) -> int:
    return values.shape[0] if hasattr(values, "shape") else len(values)


def require_target(estimator: Any, y: Any) -> None:
    """Refuse ``y=None`` in a supervised estimator's ``fit``, with scikit-learn's message."""
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but the target y is None")


def data_frame(frame: Any, name: str = "frame", columns: Sequence[str] = ()) -> pd.DataFrame:
    """``frame``, if it is a pandas DataFrame that has every column in ``columns``."""
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"{name} must be a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{name} is missing column(s) {missing}")
    return frame


# ---------------------------------------------------------------------------
# The scorer contract of the capstone and monitoring stages
# ---------------------------------------------------------------------------


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
