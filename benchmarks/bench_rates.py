"""The rates the throughput benchmarks report over their measured window, or None where a run was
too small to measure one: nothing counted in the window, or no time or CPU seen to pass in it."""

from __future__ import annotations


def per(count: float, spent: float) -> float | None:
    """`count` per unit `spent` (rows per second, rows per CPU second). None when either is not
    above zero: a sink that wrote every row by the first reading of its counter counts none in
    the window, and CPU under one tick of the kernel's clock reads as none spent."""
    if count <= 0 or spent <= 0:
        return None
    return count / spent
