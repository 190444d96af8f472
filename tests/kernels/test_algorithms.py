"""The fast algorithms (``method="winograd"`` and ``"fourier"``) on every backend: values against the
float64 oracle within the stated tolerance model, in 1-D to 3-D, with groups, padding modes, layouts,
bias, half precision and transposed plans; gradients through each framework's autodiff against the
oracle's; traced; what they refuse; and ``auto``'s choice, deterministic from the plan."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import xpconv
from xpconv.kernels import cost_model, tiles
from xpconv.testing import assert_close, conv2d_oracle_grad, conv_oracle, conv_transpose_oracle

from matrix import half_dtypes

ALGORITHMS = ("winograd", "fourier")


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    x_shape: tuple[int, ...]  # channels first, batched
    w_shape: tuple[int, ...]
    options: dict = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return self.name

    @property
    def rank(self) -> int:
        return len(self.w_shape) - 2


CASES = [
    Case("1d-k3", (2, 3, 17), (4, 3, 3), {"padding": 1}),
    Case("1d-k7-same", (1, 2, 30), (3, 2, 7), {"padding": "same"}),
    Case("2d-k3-groups", (2, 4, 11, 9), (6, 2, 3, 3), {"padding": 1, "groups": 2}),
    Case("2d-k5-reflect", (1, 3, 14, 13), (2, 3, 5, 5), {"padding": 2, "padding_mode": "reflect"}),
    Case("2d-k2x4-uneven", (2, 2, 9, 12), (3, 2, 2, 4), {"padding": ((1, 0), (2, 1))}),
    Case("2d-k1", (1, 5, 6, 7), (3, 5, 1, 1)),
    Case("3d-k3-circular", (1, 2, 6, 7, 5), (3, 2, 3, 3, 3), {"padding": 1, "padding_mode": "circular"}),
    Case("3d-k2", (2, 2, 5, 4, 6), (2, 2, 2, 3, 2)),
]


def _data(case: Case, seed: int = 0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(case.x_shape), rng.standard_normal(case.w_shape),
            rng.standard_normal(case.w_shape[0]))


def _oracle(case: Case, x, w, b, absolute=False):
    plan = xpconv.plan(x.shape, w.shape, **case.options)
    return conv_oracle(x, w, b, stride=plan.stride, padding=plan.padding, dilation=plan.dilation, groups=plan.groups,
                       padding_mode=plan.padding_mode, absolute=absolute)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_values_match_the_oracle(fw, algorithm, case, dtype):
    x, w, b = _data(case)
    y = xpconv.conv(fw.asarray(x, dtype), fw.asarray(w, dtype), fw.asarray(b, dtype), method=algorithm, **case.options)
    xr, wr, br = (a.astype(dtype).astype(np.float64) for a in (x, w, b))  # what the framework really sees
    assert_close(fw, fw.sync(y), _oracle(case, xr, wr, br), dtype=dtype, magnitude=_oracle(case, xr, wr, br, True),
                 reduction_length=int(np.prod(case.w_shape[1:])), device=fw.device(fw.asarray(x, dtype)),
                 algorithm=algorithm, rank=case.rank)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_channels_last_and_unbatched(fw, algorithm):
    case = CASES[2]
    x, w, b = _data(case, seed=1)
    expected = _oracle(case, x, w, b)
    magnitude = _oracle(case, x, w, b, True)
    dtype = "float64" if fw.has_dtype("float64") else "float32"
    last = xpconv.conv2d(fw.asarray(np.moveaxis(x, 1, -1), dtype), fw.asarray(w, dtype), fw.asarray(b, dtype),
                         data_format="NHWC", method=algorithm, **case.options)
    assert_close(fw, fw.sync(last), np.moveaxis(expected, 1, -1), dtype=dtype, magnitude=np.moveaxis(magnitude, 1, -1),
                 reduction_length=18, algorithm=algorithm)
    single = xpconv.conv2d(fw.asarray(x[0], dtype), fw.asarray(w, dtype), None, method=algorithm, **case.options)
    assert_close(fw, fw.sync(single), _oracle(case, x, w, None)[0], dtype=dtype, magnitude=_oracle(case, x, w, None, True)[0],
                 reduction_length=18, algorithm=algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_half_precision_is_computed_in_float32(fw, algorithm):
    case = CASES[3]
    x, w, b = _data(case, seed=2)
    for dtype in half_dtypes(fw):
        y = xpconv.conv(fw.asarray(x, dtype), fw.asarray(w, dtype), fw.asarray(b, dtype), method=algorithm, **case.options)
        rounded = [fw.to_numpy(fw.asarray(a, dtype)).astype(np.float64) for a in (x, w, b)]
        assert_close(fw, fw.sync(y), _oracle(case, *rounded), dtype=dtype, magnitude=_oracle(case, *rounded, absolute=True),
                     reduction_length=75, algorithm=algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_transposed_plans_run_through_their_forward_twin(fw, algorithm):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(3)
    dtype = "float64" if fw.has_dtype("float64") else "float32"
    y = xpconv.conv_transpose2d(fw.asarray(x, dtype), fw.asarray(w, dtype), fw.asarray(b, dtype), stride=2, padding=1,
                                output_padding=1, method=algorithm)
    common = {"stride": (2, 2), "padding": ((1, 1), (1, 1)), "dilation": (1, 1), "groups": 1, "output_padding": (1, 1)}
    assert_close(fw, fw.sync(y), conv_transpose_oracle(x, w, b, **common), dtype=dtype,
                 magnitude=conv_transpose_oracle(np.abs(x), np.abs(w), np.abs(b), **common), reduction_length=36,
                 algorithm=algorithm)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_gradients_match_the_oracle(autodiff_fw, algorithm):
    fw = autodiff_fw
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((6, 2, 3, 3)), rng.standard_normal(6)
    g = rng.standard_normal((2, 6, 9, 8))
    options = {"padding": 1, "groups": 2, "method": algorithm}
    grads = fw.gradients(xpconv.conv2d, x, w, b, g, **options)
    args = {"padding": ((1, 1), (1, 1)), "groups": 2}
    dx, dw, db = conv2d_oracle_grad(x, w, g, **args)
    mx, mw, mb = conv2d_oracle_grad(np.abs(x), np.abs(w), np.abs(g), absolute=True, **args)
    for name, expected, magnitude, k in (("dx", dx, mx, 3 * 9), ("dw", dw, mw, 2 * 72), ("db", db, mb, 144)):
        assert name in grads, name
        got = grads[name]
        assert got.shape == expected.shape, name
        allowed = xpconv.testing.tolerance.allowed_error("float64", k, magnitude, algorithm)
        assert np.all(np.abs(got - expected) <= allowed), (name, np.abs(got - expected).max())


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_traced_calls_agree_with_eager(fw, algorithm):
    case = CASES[2]
    x, w, b = (fw.asarray(a, "float32") for a in _data(case, seed=5))
    eager = fw.to_numpy(xpconv.conv(x, w, b, method=algorithm, **case.options))
    traced = fw.compiled(lambda x, w, b: xpconv.conv(x, w, b, method=algorithm, **case.options))(x, w, b)
    np.testing.assert_allclose(fw.to_numpy(fw.sync(traced)), eager, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_what_an_algorithm_cannot_run_is_refused_by_name(fw, algorithm):
    x, w = fw.asarray(np.ones((1, 2, 8, 8))), fw.asarray(np.ones((2, 2, 3, 3)))
    with pytest.raises(ValueError, match=rf"method='{algorithm}' needs stride 1\. Received: stride=\(2, 2\)"):
        xpconv.conv2d(x, w, stride=2, method=algorithm)
    with pytest.raises(ValueError, match=rf"method='{algorithm}' needs dilation 1\. Received: .*dilation=\(2, 2\)"):
        xpconv.conv2d(x, w, dilation=2, method=algorithm)
    ints = fw.array_of("int32", np.ones((1, 2, 8, 8)))
    if ints is not None:
        with pytest.raises(ValueError, match=rf"method='{algorithm}' computes real floating-point dtypes only.*int32"):
            xpconv.conv2d(ints, fw.array_of("int32", np.ones((2, 2, 3, 3))), method=algorithm)


def test_auto_is_deterministic_and_never_picks_what_cannot_run(fw):
    """The choice is a function of the plan, dtype and backend (no timing): the same on every call,
    never a fast algorithm for integers, strides, dilations or depthwise layers."""
    backend = fw.backend
    dtype = fw.dtype("float32")
    for shape, w_shape, options in [((8, 64, 56, 56), (64, 64, 3, 3), {"padding": 1}),
                                    ((1, 128, 64, 64), (128, 128, 5, 5), {"padding": 2}),
                                    ((8, 64, 56, 56), (64, 64, 3, 3), {"padding": 1, "stride": 2}),
                                    ((8, 64, 56, 56), (64, 1, 3, 3), {"padding": 1, "groups": 64})]:
        plan = xpconv.plan(shape, w_shape, **options)
        first = cost_model.fastest(backend, plan, dtype, backend.has_native)
        assert all(cost_model.fastest(backend, plan, dtype, backend.has_native) == first for _ in range(3))
        if options.get("stride") or options.get("groups"):
            assert first is None
    if fw.has_dtype("int32"):
        ints = fw.dtype("int32")
        plan = xpconv.plan((8, 64, 56, 56), (64, 64, 3, 3), padding=1)
        assert cost_model.fastest(backend, plan, ints, backend.has_native) is None


def test_winograd_matrices_are_exact_for_every_tile():
    """F(m, r) from the rational construction: exact on integer data for every tile used."""
    rng = np.random.default_rng(6)
    for r, m in tiles.WINOGRAD_OUTPUTS.items():
        t = tiles.winograd(m, r)
        d, g = rng.integers(-9, 9, t.alpha).astype(np.float64), rng.integers(-9, 9, r).astype(np.float64)
        expected = [d[i: i + r] @ g for i in range(m)]
        np.testing.assert_allclose(t.inverse @ ((t.filter @ g) * (t.data @ d)), expected, atol=1e-9)


@pytest.mark.needs("numpy")
@pytest.mark.parametrize("algorithm", ["winograd", "fourier"])
@pytest.mark.parametrize("mode", ["zeros", "reflect"])
def test_blocks_are_padded_and_placed_one_at_a_time(algorithm, mode):
    """With small blocks, a fast algorithm's temporaries (NumPy reports them to tracemalloc) are the
    blocks of output kept for the one concatenation, the transformed weight, plus one block's work: never the whole input
    padded, nor the whole output permuted (before, they were 4.2-4.7 times the input; now 1.1-1.4)."""
    import tracemalloc

    import array_api_compat.numpy as xp

    from xpconv.kernels import transform

    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((2, 16, 96, 96)), rng.standard_normal((16, 16, 3, 3))
    plan = xpconv.plan(x.shape, w.shape, None, padding=1, padding_mode=mode)
    tracemalloc.start()
    try:
        y = transform.conv(xp, x, w, None, plan, algorithm=algorithm, scratch_elements=20_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    t = tiles.tiles(algorithm, (3, 3), (96, 96))
    assert transform.block_rows(t, [24, 24], plan, 20_000) < 24
    weight = (3 if t.complex else 1) * t.points * w.shape[0] * w.shape[1] * w.itemsize  # transformed, kept for every block
    assert peak - 2 * y.nbytes - weight < 0.5 * x.nbytes  # the output, the blocks it is joined from, and a little
    np.testing.assert_allclose(y, conv_oracle(x, w, None, padding=((1, 1), (1, 1)), padding_mode=mode), atol=1e-9)


def test_auto_runs_the_algorithm_the_cost_model_chooses(fw):
    """Where the cost model predicts a fast algorithm, ``auto`` runs it: the same float32 numbers as
    forcing it, within its tolerance of the oracle (a table that makes Winograd cheap, per backend)."""
    from xpconv.backends import catalog
    from xpconv.dispatch import algorithm_of

    cheap = {"native_per_mac": 1.0, "direct_per_mac": 1.0, "winograd_per_product": 1e-15, "winograd_per_element": 0.0,
             "winograd_over_native": 0.0, "winograd_over_direct": 0.0}
    table = {"backends": {b.name: {"32": {"2d": cheap}} for b in catalog()}}
    case = Case("2d-k3-16ch", (2, 16, 10, 9), (8, 16, 3, 3), {"padding": 1})
    x, w, b = _data(case, seed=6)
    args = [fw.asarray(a, "float32") for a in (x, w, b)]
    with cost_model.using(table):
        if not fw.backend.container:  # Dask: each block's NumPy call chooses
            chosen = algorithm_of(fw.backend, fw.dtype("float32"), "auto", xpconv.plan(x.shape, w.shape, padding=1))
            assert chosen == "winograd"
        auto = fw.sync(xpconv.conv(*args, **case.options))
        computed = fw.to_numpy(auto)  # inside the block: Dask runs its blocks' calls only now
    forced = fw.sync(xpconv.conv(*args, method="winograd", **case.options))
    np.testing.assert_array_equal(computed, fw.to_numpy(forced))
    xr, wr, br = (a.astype(np.float32).astype(np.float64) for a in (x, w, b))
    assert_close(fw, auto, _oracle(case, xr, wr, br), dtype="float32", magnitude=_oracle(case, xr, wr, br, True),
                 reduction_length=144, algorithm="winograd")


def test_the_shipped_cost_model_takes_winograd_only_where_it_measured_faster():
    """The shipped constants (``calibration.json``, fitted per rank) choose Winograd for the 3-D 3x3x3
    bench workload on NumPy (no native) and JAX (XLA's 3-D convolution is slow on CPU) and for the
    2-D ResNet layer on NumPy (14.5 ms against the direct kernel's 18.0 in ``benchmarks/algorithms.md``'s
    run before this calibration), Fourier tiles for the chapter's 5x5 layer on torch, and no fast
    algorithm for the ResNet layer on torch; the per-rank constants say nothing about float64."""
    from xpconv.backends import get_backend

    video = xpconv.plan((2, 64, 16, 28, 28), (64, 64, 3, 3, 3), padding=1)
    resnet = xpconv.plan((8, 64, 56, 56), (64, 64, 3, 3), padding=1)
    numpy_backend = get_backend("numpy")
    assert cost_model.fastest(numpy_backend, video, np.float32, False) == "winograd"
    assert cost_model.fastest(numpy_backend, video, np.float64, False) is None
    assert cost_model.fastest(numpy_backend, resnet, np.float32, False) == "winograd"
    # Fourier tiles for the chapter's 5x5 layer on torch (0.6-0.7 of F.conv2d's time in the bench)
    chapter = xpconv.plan((1, 128, 256, 256), (128, 128, 5, 5), padding=2)
    assert cost_model.fastest(get_backend("torch"), chapter, np.float32, True) == "fourier"
    assert cost_model.fastest(get_backend("torch"), resnet, np.float32, True) is None
    table = cost_model.constants()["backends"]
    assert set(table["jax"]["32"]) == {"1d", "2d", "3d"}
    assert table["jax"]["32"]["3d"]["winograd_per_product"] >= 0


@pytest.mark.needs("torch")
def test_torch_auto_runs_pointwise_layers_as_one_matrix_product():
    """``F.conv2d`` is slower than xpconv's matrix product over channels on 1x1 kernels in float32 and
    float64 (``xpconv bench``): ``auto`` runs the direct kernel there, native for half precision."""
    import torch

    from xpconv.backends import get_backend
    from xpconv.dispatch import algorithm_of

    backend = get_backend("torch")
    pointwise = xpconv.plan((8, 256, 56, 56), (64, 256, 1, 1)).with_batch()
    for dtype, expected in ((torch.float32, "direct"), (torch.float64, "direct"), (torch.bfloat16, "native")):
        assert algorithm_of(backend, dtype, "auto", pointwise) == expected, dtype
    assert algorithm_of(backend, torch.float32, "native", pointwise) == "native"
    rng = np.random.default_rng(7)
    x, w = torch.asarray(rng.standard_normal((2, 8, 5, 6))), torch.asarray(rng.standard_normal((4, 8, 1, 1)))
    torch.testing.assert_close(xpconv.conv2d(x, w), torch.nn.functional.conv2d(x, w), rtol=1e-12, atol=1e-12)
