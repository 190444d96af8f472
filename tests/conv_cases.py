"""Shared pieces of the conv2d tests: random problems and their float64 expectations."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st

from xpconv.testing import conv2d_oracle


def same_padding(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """The issue's rule, written out again here so the tests do not trust xpconv's."""
    total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
    return (total // 2, total - total // 2)


def explicit_padding(padding, h, w, kernel, stride, dilation):
    if padding == "valid":
        return ((0, 0), (0, 0))
    if padding == "same":
        return tuple(same_padding(n, k, s, d) for n, k, s, d in zip((h, w), kernel, stride, dilation))
    if isinstance(padding, int):
        return ((padding, padding), (padding, padding))
    if isinstance(padding[0], int):
        return ((padding[0], padding[0]), (padding[1], padding[1]))
    return tuple(tuple(p) for p in padding)


@dataclass
class Problem:
    """One conv2d call in NCHW numbers, plus how the caller lays it out."""

    x: np.ndarray  # (N, C_in, H, W), float64
    w: np.ndarray  # (C_out, C_in/groups, kH, kW)
    b: np.ndarray | None
    options: dict = field(default_factory=dict)  # stride, padding, dilation, groups
    batched: bool = True
    data_format: str = "NCHW"

    @property
    def pads(self):
        o = self.options
        pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
        return explicit_padding(
            o.get("padding", 0), self.x.shape[2], self.x.shape[3], self.w.shape[2:],
            pair(o.get("stride", 1)), pair(o.get("dilation", 1)),
        )

    @property
    def reduction_length(self) -> int:
        return int(np.prod(self.w.shape[1:]))

    def oracle(self, absolute: bool = False) -> np.ndarray:
        o = self.options
        pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
        y = conv2d_oracle(
            self.x, self.w, self.b, stride=pair(o.get("stride", 1)), padding=self.pads,
            dilation=pair(o.get("dilation", 1)), groups=o.get("groups", 1), absolute=absolute,
        )
        return self.to_layout(y)

    def to_layout(self, y: np.ndarray) -> np.ndarray:
        """An NCHW batched array in this problem's layout and batchedness."""
        if self.data_format == "NHWC":
            y = np.transpose(y, (0, 2, 3, 1))
        return y if self.batched else y[0]

    def arrays(self, fw, dtype: str):
        """x, weight, bias as ``fw`` arrays of ``dtype`` in the caller's layout."""
        b = None if self.b is None else fw.asarray(self.b.astype(np.float64), dtype)
        return fw.asarray(self.to_layout(self.x), dtype), fw.asarray(self.w, dtype), b

    def rounded(self, dtype: str) -> Problem:
        """The same problem with inputs rounded to ``dtype`` (what the framework really sees)."""
        if dtype == "bfloat16":
            def cast(a):  # round to nearest even on the top 16 bits of float32
                bits = a.astype(np.float32).view(np.uint32)
                bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
                return bits.astype(np.uint32).view(np.float32).astype(np.float64)
        else:
            def cast(a):
                return a.astype(dtype).astype(np.float64)
        return Problem(cast(self.x), cast(self.w), None if self.b is None else cast(self.b),
                       self.options, self.batched, self.data_format)


def random_problem(rng: np.random.Generator, *, n=2, c_in=4, c_out=6, hw=(7, 8), kernel=(3, 3),
                   bias=True, integers=False, **options) -> Problem:
    groups = options.get("groups", 1)
    draw = (lambda s: rng.integers(-4, 5, s).astype(np.float64)) if integers else rng.standard_normal
    x = draw((n, c_in, *hw))
    w = draw((c_out, c_in // groups, *kernel))
    b = draw((c_out,)) if bias else None
    return Problem(x, w, b, options)


def check(fw, problem: Problem, dtype: str, method: str) -> float:
    """``xpconv.conv2d`` on ``problem`` rounded to ``dtype``, within tolerance of the float64 oracle."""
    import xpconv
    from xpconv.testing import assert_close

    rounded = problem.rounded(dtype)
    x, w, b = rounded.arrays(fw, dtype)
    result = xpconv.conv2d(x, w, b, data_format=problem.data_format, method=method, **problem.options)
    return assert_close(
        fw, result, rounded.oracle(), dtype=dtype, magnitude=rounded.oracle(absolute=True),
        reduction_length=problem.reduction_length,
    )


@st.composite
def problems(draw) -> Problem:
    """A random conv2d problem (hypothesis): groups, kernel, stride, dilation, every padding form,
    batched or not, either layout."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    c_in = groups * draw(st.integers(1, 3))
    c_out = groups * draw(st.integers(1, 3))
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    form = draw(st.sampled_from(["valid", "same", "int", "pair", "explicit"]))
    padding = {
        "valid": "valid", "same": "same", "int": draw(st.integers(0, 2)),
        "pair": (draw(st.integers(0, 2)), draw(st.integers(0, 2))),
        "explicit": tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(2)),
    }[form]
    pads = explicit_padding(padding, 99, 99, kernel, stride, dilation) if form != "same" else ((0, 0), (0, 0))
    extent = [(k - 1) * d + 1 for k, d in zip(kernel, dilation)]
    hw = tuple(max(1, e - sum(p)) + draw(st.integers(0, 5)) for e, p in zip(extent, pads))
    seed = draw(st.integers(0, 2**32 - 1))
    problem = random_problem(
        np.random.default_rng(seed), n=draw(st.integers(1, 3)), c_in=c_in, c_out=c_out, hw=hw, kernel=kernel,
        bias=draw(st.booleans()), stride=stride, padding=padding, dilation=dilation, groups=groups,
    )
    problem.batched = draw(st.booleans())
    if not problem.batched:
        problem.x = problem.x[:1]
    problem.data_format = draw(st.sampled_from(["NCHW", "NHWC"]))
    return problem
