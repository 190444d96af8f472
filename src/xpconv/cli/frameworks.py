"""The CLI's side of the backends: the frameworks it runs on (the registry's catalog), which are
installed, and their adapters, loaded on request.

Unlike a convolution, the CLI is asked to run on every installed framework, so it imports them.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator

from ..backends import catalog
from ..testing import Adapter, adapter


def frameworks() -> tuple[str, ...]:
    """Every backend with a test lane of its own, in the order they are consulted."""
    return tuple(backend.name for backend in catalog() if backend.lane)


def extras() -> dict[str, str]:
    """What to install for each backend that is not a dependency of xpconv itself."""
    return {backend.name: backend.extra for backend in catalog() if backend.lane and backend.extra}


def installed(names: tuple[str, ...] | None = None) -> dict[str, bool]:
    """Whether each framework can be imported (nothing is imported)."""
    return {name: adapter(name).installed() for name in (names or frameworks())}


def load(names: tuple[str, ...] | None = None) -> list[Adapter]:
    """Import every installed framework of ``names`` and return its adapter, ready to use; the
    C++ start-up logging of TensorFlow (and XLA) is dropped unless ``TF_CPP_MIN_LOG_LEVEL`` is set."""
    with quiet_native_logs():
        return [adapter(name).load() for name, present in installed(names).items() if present]


#: Lines the frameworks' C++ code writes on stderr while they are imported: absl's preamble and its
#: ``I0000 00:00:1796479722.776674    2815 port.cc:153] ...`` records (TensorFlow's oneDNN notice).
NATIVE_LOG = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
                        r"|[IWEF]\d{4} [\d:.]+ +\d+ [\w./-]+:\d+\] .*)$")


@contextlib.contextmanager
def quiet_native_logs() -> Iterator[None]:
    """While the block runs, the process's stderr (file descriptor 2, where C++ code writes) goes to a
    temporary file; afterwards its lines are written back, less those of :data:`NATIVE_LOG`.
    Nothing is filtered where the user set ``TF_CPP_MIN_LOG_LEVEL`` (they chose what to see);
    otherwise it is set to 2 for the frameworks' later logging."""
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        yield
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = [line for line in caught.read().decode(errors="replace").splitlines(keepends=True)
                    if not NATIVE_LOG.match(line.rstrip("\n"))]
            sys.stderr.write("".join(kept))
