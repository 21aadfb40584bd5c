"""Input checks shared by the stage modules, with messages that name the argument."""

from __future__ import annotations

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
