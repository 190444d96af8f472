"""Arrays of one call on one device: the check, with the message that names both arrays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def check_devices(device: Callable[[Any], Any], arrays: dict[str, Any]) -> None:
    """Raise a ``ValueError`` naming the first two arrays (by argument name) on different devices;
    ``device(a)`` is an array's device, ``None`` where it cannot be known (tracers: not compared)."""
    devices = {name: device(a) for name, a in arrays.items()}
    known = {n: d for n, d in devices.items() if d is not None}
    names = list(known)
    for other in names[1:]:
        if known[other] != known[names[0]]:
            raise ValueError(
                f"{names[0]} and {other} must be on the same device. Received: "
                f"{names[0]} on {known[names[0]]}, {other} on {known[other]}"
            )
