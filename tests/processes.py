"""Waiting on processes in tests: poll to a deadline instead of sleeping and hoping."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable


def sandbox_processes() -> list[str]:
    """Command lines of sandboxed kernels running on this machine (bwrap wrapping an ipykernel)."""
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if "bwrap" in line and "ipykernel" in line]


def left_after(found: Callable[[], list], timeout_s: float = 20.0) -> list:
    """``found()`` polled until it is empty or ``timeout_s`` has passed; what it returned last."""
    deadline = time.monotonic() + timeout_s
    while (left := found()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left
