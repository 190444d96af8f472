"""Both of xpconv's own kernels with tiny blocks, so every block boundary and padding edge is crossed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import xpconv
from xpconv.kernels import direct, numpy_blocked
from xpconv.testing import assert_close

from conv_cases import problems
from matrix import ADAPTERS

pytestmark = pytest.mark.needs("numpy")


def _caller_input_and_plan(problem):
    x = problem.to_layout(problem.x)
    plan = xpconv.plan(x.shape, problem.w.shape, None if problem.b is None else problem.b.shape,
                       data_format=problem.data_format, **problem.options)
    if not plan.batched:  # kernels see batched arrays (xpconv adds the axis once, around them)
        x, plan = x[None], plan.with_batch()
    return x, plan


def _caller_layout(result, problem):
    return result if problem.to_layout(problem.x).ndim == result.ndim else result[0]


@settings(max_examples=60, deadline=None)
@given(problem=problems(), scratch=st.sampled_from([1, 4096, 1 << 20]))
def test_blocked_kernel_matches_the_oracle(problem, scratch):

    x, plan = _caller_input_and_plan(problem)
    before = x.copy()
    result = _caller_layout(numpy_blocked.conv(x, problem.w, problem.b, plan, scratch_bytes=scratch), problem)
    np.testing.assert_array_equal(x, before)
    assert_close(ADAPTERS["numpy"], result, problem.oracle(), dtype="float64",
                 magnitude=problem.oracle(absolute=True), reduction_length=problem.reduction_length)


@settings(max_examples=60, deadline=None)
@given(problem=problems(), scratch=st.sampled_from([1, 64, 4096]))
def test_blocked_portable_kernel_matches_the_oracle(problem, scratch):
    import array_api_compat.numpy as xp


    x, plan = _caller_input_and_plan(problem)
    result = _caller_layout(direct.conv(xp, x, problem.w, problem.b, plan, scratch_elements=scratch), problem)
    assert_close(ADAPTERS["numpy"], result, problem.oracle(), dtype="float64",
                 magnitude=problem.oracle(absolute=True), reduction_length=problem.reduction_length)
