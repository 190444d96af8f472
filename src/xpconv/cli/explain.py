"""``xpconv explain``: the chapter's example, element by element, as sums of products."""

from __future__ import annotations

import json
import sys

import numpy as np

from .. import conv, explain
from .verify import K, X


def run(index: list[int] | None, outputs: int, as_json: bool = False, markdown: bool = False) -> int:
    """Print ``X``, the kernel (``K``, or ``K, K + 1, ...`` stacked for ``outputs`` > 1), the output
    and the sum behind each of its elements (or the one at ``index``); 2 for an ``index`` outside."""
    kernel = K if outputs == 1 else np.stack([K + i for i in range(outputs)])
    y = conv(X, kernel[None] if outputs == 1 else kernel)
    y = y[0] if outputs == 1 else y
    if index and (len(index) != y.ndim or not all(0 <= i < n for i, n in zip(index, y.shape))):
        what = "I J" if outputs == 1 else "C_OUT I J"
        sys.stderr.write(f"xpconv explain: error: argument --index: expected {what} inside the output of shape "
                         f"{y.shape}, got {' '.join(map(str, index))}\n")
        return 2
    indices = [tuple(index)] if index else [tuple(int(i) for i in at) for at in np.ndindex(*y.shape)]
    lines = {f"Y[{', '.join(map(str, at))}]": explain(X, kernel, at) for at in indices}
    if as_json:
        print(json.dumps({"X": X.tolist(), "K": kernel.tolist(), "Y": y.tolist(), "explained": lines}, indent=2))
        return 0
    call = "corr2d_multi_in(X, K)" if outputs == 1 else f"corr2d_multi_in_out(X, K), K = [K, ..., K + {outputs - 1}]"
    fence = ["```"] if markdown else []
    print("\n".join([*fence, f"X, shape {X.shape}:", _grid(X), f"K, shape {kernel.shape}:", _grid(kernel),
                     f"Y = {call}, shape {y.shape}:", _grid(y), "",
                     *(f"{at}: {text}" for at, text in lines.items()), *fence]))
    return 0


def _grid(a: np.ndarray) -> str:
    """The array as NumPy prints it, integers without a decimal point."""
    a = np.asarray(a)
    return np.array2string(a.astype(np.int64) if np.all(a % 1 == 0) else a)
