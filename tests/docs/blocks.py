"""The ```python blocks of a Markdown page, as the docs tests run them.

A block is skipped only when the line right before its opening fence is :data:`NOT_RUN`, the one
allowed reason (MXNet needs an environment of its own, NumPy 1.23.5). Any other ``not-run`` comment
line is an error, so that no other reason to skip can creep in unnoticed.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

#: The line that, right before a block's opening fence, keeps the block from being run.
NOT_RUN = "<!-- not-run: needs MXNet's environment (numpy 1.23.5) -->"

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


def _is_python(info: str) -> bool:
    words = info.strip().split()
    return bool(words) and words[0] == "python"


def _check_marker(line: str, path: Path, number: int) -> None:
    if line.strip().startswith("<!--") and "not-run" in line and line.strip() != NOT_RUN:
        raise ValueError(
            f"{path}:{number}: a not-run marker must read exactly {NOT_RUN!r} (the only reason to skip a block). "
            f"Received: {line.strip()!r}"
        )


def python_blocks(path: str | Path) -> list[str]:
    """The sources of the ```python blocks of the Markdown file ``path`` that are to run, in order.

    Parameters
    ----------
    path : str or Path
        A Markdown (MyST or GitHub) file.

    Returns
    -------
    list of str
        Each block's code, dedented by its fence's indentation (blocks inside lists). Blocks nested
        in another fence (a ````markdown example) and blocks preceded by :data:`NOT_RUN` are left out.

    Raises
    ------
    ValueError
        A ``not-run`` comment other than :data:`NOT_RUN`, or a fence that is never closed.
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[str] = []
    opened: tuple[str, int, int, bool] | None = None  # (fence character, length, first line, runs)
    body: list[str] = []
    indent = ""
    for number, line in enumerate(lines, start=1):
        _check_marker(line, path, number)
        match = _FENCE.match(line)
        if opened is None:
            if match:
                previous = lines[number - 2].strip() if number > 1 else ""
                fence = match["fence"]
                runs = _is_python(match["info"]) and previous != NOT_RUN
                opened, body, indent = (fence[0], len(fence), number, runs), [], match["indent"]
            continue
        char, length, _, runs = opened
        if match and match["fence"][0] == char and len(match["fence"]) >= length and not match["info"].strip():
            if runs:
                blocks.append(textwrap.dedent("\n".join(body)) + "\n")
            opened = None
            continue
        body.append(line[len(indent):] if line.startswith(indent) else line)
    if opened is not None:
        raise ValueError(f"{path}:{opened[2]}: a code fence is never closed")
    return blocks
