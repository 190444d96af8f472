"""A status line on stderr, rewritten in place while a command works.

Shown only when stderr is a terminal, so that logs and pipes (CI) stay clean; cleared when
the work ends, normally or not.
"""

from __future__ import annotations

import shutil
import sys
from typing import TextIO


def is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


class Progress:
    """``<command>: <done>/<total> <label>`` on one line of stderr (or ``stream``), when it is a terminal.

    Use it as a context manager, so that the line is cleared however the work ends.
    """

    def __init__(self, command: str, total: int, stream: TextIO | None = None) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.enabled = is_terminal(self.stream)
        self.command, self.total = command, total
        self._shown = 0  # characters on the line now

    def update(self, done: int, label: str) -> None:
        """Show that item ``done`` of ``total`` (counting from 1) is ``label``."""
        if not self.enabled:
            return
        line = f"{self.command}: {done}/{self.total} {label}"
        line = line[: max(20, shutil.get_terminal_size().columns - 1)]  # a wrapped line cannot be rewritten
        self.stream.write("\r" + line.ljust(self._shown))
        self.stream.flush()
        self._shown = len(line)

    def close(self) -> None:
        """Clear the line, leaving the cursor at its start."""
        if self.enabled and self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
        self._shown = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
