"""Every convolution goes through here: resolve → call cache → validate and plan → choose → run.

:func:`call` is the one entry: the public functions, the chapter's functions and Dask's blocks
(through the call injected into the container backend) all come through it. A call whose
signature (array types, shapes, dtypes, options, method) was validated before takes the fast
path: one look-up, the device check, the kernel. Otherwise :func:`prepare` checks everything
before any array work, and :func:`choose` picks the kernel from the plan, the dtype and what the
backend declares, in one if-chain.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._dtypes import describe, dtype_name, native_byte_order, resolve_out_dtype, result_dtype
from ._plan import ConvOptions, ConvPlan, Kind, make_plan
from .backends import TAKES_UNBATCHED, backend_of_type, on_registry_change, registry_generation, resolve
from .cache import LRUCache, cache_key
from .kernels import direct, transform
from .kernels.cost_model import fastest, overridden
from .kernels.padding import pad_first
from .kernels.reach import bias_only, nothing, reach
from .kernels.transpose import extend_first, forward_twin, reads_nothing, via_forward

if TYPE_CHECKING:
    from .backends import Backend

Kernel = Callable[[Any, Any, Any, ConvPlan], Any]
#: ``portable``: xpconv's direct kernel; ``winograd``/``fourier``: its fast algorithms (forced).
METHODS = ("auto", "native", "portable", *transform.ALGORITHMS)


# -- validation --------------------------------------------------------------------------------
def check_dtypes(backend: Backend, xp: Any, arrays: dict[str, Any]) -> None:
    """Refuse, naming the argument, every dtype outside the backend's table (``backend.dtypes``):
    bool, strings and objects everywhere, and what a framework cannot compute (torch's
    uint16-64, TensorFlow's uint64, 8-bit floats, 4-bit ints, long double). A name look-up: the
    answer never depends on which backend saw a shared dtype object first."""
    for name, a in arrays.items():
        if a is None:
            continue
        found = dtype_name(a.dtype)
        if found in backend.dtypes:
            continue
        try:
            real = bool(xp.isdtype(a.dtype, ("real floating", "complex floating", "integral")))
        except Exception:  # a dtype the namespace does not know at all (strings, objects)
            real = False
        if not real:
            raise TypeError(
                f"{name} must have a numeric dtype (integer, real or complex floating-point). "
                f"Received: {name} with dtype {found}"
            )
        hint = "; long double is not computed: convert to float64" if found in ("float128", "float96", "longdouble") else ""
        raise TypeError(
            f"{name} must have a dtype the {backend.name} backend computes ({describe(backend.dtypes)}). "
            f"Received: {name} with dtype {found}{hint}"
        )


def _shape(backend: Backend, name: str, a: Any) -> tuple[Any, ...]:
    """``a``'s shape, unknown sizes as the backend's symbolic values; the rank must be known."""
    try:
        return backend.shape(a)
    except ValueError as error:  # an unknown rank
        raise ValueError(f"{name} must have a known number of dimensions. Received: {name} ({error})") from None


def _check_native(backend: Backend, x: Any, dtype: Any, names: list[str], out_dtype: Any) -> None:
    """``method="native"``: the library (a container's: its blocks') must have a native convolution
    that takes the dtype."""
    native = backend.native_backend(x)
    where = "" if native is backend else f" of its own: its blocks run on backend {native.name!r}, which has none"
    if not native.has_native:
        raise ValueError(
            f"method='native' needs a backend with a native convolution. Received: arrays of backend "
            f"{backend.name!r}, which has none{where}; use method='auto' or 'portable'"
        )
    if not native.native_takes(dtype):
        raise ValueError(
            f"method='native': the {native.name} convolution does not support dtype {dtype_name(dtype)}. "
            f"Received: {names[0]} with dtype {dtype_name(x.dtype)}"
            + ("" if out_dtype is None else f", out_dtype={dtype_name(dtype)}") + "; use method='auto'"
        )


def _check_algorithm(xp: Any, method: str, plan: ConvPlan, dtype: Any, name: str, x_dtype: Any) -> None:
    """A forced fast algorithm: real floating dtypes only (integers stay exact: direct only), and a
    plan it can run (a transposed plan through its forward twin)."""
    if not xp.isdtype(dtype, "real floating"):
        raise ValueError(
            f"method={method!r} computes real floating-point dtypes only (integers stay exact with the "
            f"direct kernel). Received: {name} with dtype {dtype_name(x_dtype)}; use method='auto' or 'portable'"
        )
    why = transform.unsupported(plan)
    if why is not None:
        raise ValueError(
            f"method={method!r} needs {why}. Received: stride={plan.stride}, dilation={plan.dilation}"
            + ("" if plan.spatial_static else f", spatial sizes {plan.in_size}") + "; use method='auto' or 'portable'"
        )


def prepare(kind: Kind, named: dict[str, Any], options: ConvOptions, method: str,
            resolved: tuple[Backend, dict[str, Any]] | None = None) -> tuple[Backend, Any, tuple[Any, Any, Any], ConvPlan]:
    """Validate everything, then bring the arrays to one dtype: no other work before every check.

    ``named`` holds the input, the weight and the bias, in that order, under the names that error
    messages use (``x``/``weight``, or the chapter's ``X``/``K``). ``resolved``: ``(backend, arrays)``
    from :func:`xpconv.backends.resolve`, where the caller resolved already.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}. Received: method={method!r}")
    for name, value in list(named.items())[:2]:
        if value is None:
            raise TypeError(f"{name} must be an array or a nested list of numbers. Received: {name}=None")
    if any(isinstance(v, (list, tuple, int, float)) for v in named.values()):
        options.validated(kind, cache=False)  # options first: a list is converted (copied) by resolve
    backend, converted = resolved or resolve(named)
    tracing = backend.is_tracing()  # then no cache is read or written (torch.compile guards on them)
    options = options.validated(kind, cache=not tracing)
    names = list(converted)
    x, weight, bias = converted.values()
    xp = backend.namespace(x)
    check_dtypes(backend, xp, converted)
    plan = make_plan(kind, options, _shape(backend, names[0], x), _shape(backend, names[1], weight),
                     None if bias is None else _shape(backend, names[2], bias), (names[0], names[1]),
                     maximum=backend.size_max, traced=tracing)
    if plan.requirements:  # sizes known only at run time: the framework checks them then
        x = backend.require(x, plan.requirements)
    dtype = native_byte_order(result_dtype(xp, {n: a.dtype for n, a in converted.items() if a is not None}))
    if options.out_dtype is not None:
        dtype = resolve_out_dtype(xp, options.out_dtype, dtype, backend.name, backend.dtypes, backend.dtype_hint)
    if method == "native":
        _check_native(backend, x, dtype, names, options.out_dtype)
    elif method in transform.ALGORITHMS:
        _check_algorithm(xp, method, plan, dtype, names[0], x.dtype)
    # every check passed: now, and only now, copies (promotion, byte order, out_dtype)
    arrays = tuple(a if a is None or a.dtype == dtype else xp.astype(a, dtype) for a in (x, weight, bias))
    return backend, xp, arrays, plan


# -- the choice --------------------------------------------------------------------------------
def choose(backend: Backend, xp: Any, dtype: Any, method: str, plan: ConvPlan) -> Kernel:
    """The kernel that runs ``plan`` on the caller's arrays, from what ``backend`` declares.

    Kernels see batched arrays: for an unbatched input the batch axis is added and removed here,
    once (:meth:`Backend.add_batch`), unless the kernel takes unbatched inputs itself
    (:data:`~xpconv.backends.base.TAKES_UNBATCHED`). A container library (Dask) hands each block back to
    :func:`call`; everything else goes through :func:`_kernel`.
    """
    batched = plan.with_batch()
    if backend.container:
        kernel = backend.container_kernel(method, call)
        if _extends(batched):  # the blocks see the extended input, zero-padded
            extend, _ = extend_first(xp, batched)
            kernel = extend(kernel)
    else:
        kernel = backend.adapt(_kernel(backend, xp, dtype, method, batched))
    if not plan.batch_static:
        kernel = backend.guard_empty_batch(kernel, backend.adapt(bias_only(backend, xp)))
    if plan.batched or getattr(kernel, TAKES_UNBATCHED, False):
        return kernel

    def unbatched(x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        return backend.drop_batch(kernel(backend.add_batch(x), weight, bias, batched))

    return unbatched


def _kernel(backend: Backend, xp: Any, dtype: Any, method: str, plan: ConvPlan) -> Kernel:
    """The one if-chain: a transposed padding mode, what reads nothing, the live taps, the kind,
    then native or xpconv's own."""
    if _extends(plan):
        extend, zero_padded = extend_first(xp, plan)
        return extend(_kernel(backend, xp, dtype, method, zero_padded))
    if (plan.batch_static and plan.batch == 0) or (plan.kind is Kind.TRANSPOSED and reads_nothing(plan)):
        found = nothing(plan)
    else:
        found = reach(plan)  # forward, static, zero-padded plans: taps that read only padding
    if found is not None and found.empty:
        return bias_only(backend, xp)
    if found is not None and found.trims:
        return found.cut(_kernel(backend, xp, dtype, method, found.plan))
    native = _runs_native(backend, dtype, method)
    if plan.kind is Kind.TRANSPOSED:
        own = backend.native_transposed(plan) if native else None
        if own is not None:
            return own
        return via_forward(xp, _kernel(backend, xp, dtype, method, forward_twin(plan)[0]))
    algorithm = algorithm_of(backend, dtype, method, plan)
    if algorithm in transform.ALGORITHMS:
        return _transform(backend, xp, algorithm)
    if algorithm == "native":
        if plan.zero_padded and (plan.native_same or plan.static_padding):
            return backend.native_kernel(plan)
        # natives pad with zeros only, by amounts they know now: the mode's (or symbolic) padding first
        padded, plan_after = pad_first(xp, plan)
        return padded(backend.native_kernel(plan_after))
    if method == "portable":
        return functools.partial(direct.conv, xp)
    return backend.direct_kernel(xp, plan)


def _extends(plan: ConvPlan) -> bool:
    """A transposed plan with a padding mode: its input is extended first (:func:`extend_first`)."""
    return plan.kind is Kind.TRANSPOSED and plan.padding_mode != "zeros"


def _runs_native(backend: Backend, dtype: Any, method: str) -> bool:
    """Whether ``method`` asks for the library's own kernel: always for ``native``; for ``auto``
    where the backend has one that takes ``dtype``."""
    return method == "native" or (method == "auto" and backend.has_native and backend.native_takes(dtype))


def algorithm_of(backend: Backend, dtype: Any, method: str, plan: ConvPlan) -> str:
    """What runs a forward ``plan`` (after the cuts above): ``"native"``, ``"direct"`` (xpconv's
    own direct kernel) or a fast algorithm; ``auto`` asks the cost model."""
    native = _runs_native(backend, dtype, method)
    if method in transform.ALGORITHMS:
        return method
    if method == "auto" and (algorithm := fastest(backend, plan, dtype, native)) is not None:
        return algorithm
    if native and (method == "native" or not backend.prefers_own(plan, dtype)):
        return "native"
    return "direct"


def _transform(backend: Backend, xp: Any, algorithm: str) -> Kernel:
    """A fast algorithm, its matrices made on the arrays' device, its blocks the backend's."""
    def run(x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        return transform.conv(xp, x, weight, bias, plan, algorithm=algorithm, device=backend.device(x),
                              scratch_elements=backend.transform_block_elements)

    return run


# -- the call -------------------------------------------------------------------------------------
# Calls already validated, by signature: (kind, types, shapes, dtypes, options, method) ->
# (backend, plan, kernel). A hit skips every check that depends only on the signature; the devices
# of the actual arrays are still compared on every call. Registering a backend clears it (through
# the registry's hook, so a hit costs no generation check).
CALLS: LRUCache[tuple[Any, ConvPlan, Kernel]] = LRUCache(4096)
on_registry_change(CALLS.clear)


def _signature(kind: Kind, x: Any, weight: Any, bias: Any, options: ConvOptions, method: str) -> tuple | None:
    """The cache key of a call, or ``None`` where the full path must run (:func:`cache_key`'s rule
    for the options; shapes of plain ints only). Not hashed here: the look-up hashes it once."""
    key = cache_key(options)
    if key is None:
        return None
    try:
        shape, w_shape = x.shape, weight.shape
        if type(sum(shape) + sum(w_shape)) is not int:
            return None  # symbolic (SymInt, JAX dims), unknown (None) or NaN sizes: never hashed
        if bias is None:
            return (kind, type(x), type(weight), shape, w_shape, x.dtype, weight.dtype, key, method)
        b_shape = bias.shape
        if type(sum(b_shape)) is not int:
            return None
        return (kind, type(x), type(weight), type(bias), shape, w_shape, b_shape, x.dtype, weight.dtype,
                bias.dtype, key, method)
    except (TypeError, AttributeError, RuntimeError):  # lists, None, nested tensors (no sizes): the full path
        return None


def call(kind: Kind, x: Any, weight: Any, bias: Any, options: ConvOptions, method: str = "auto") -> Any:
    """A convolution of ``kind`` with ``options`` (as given by the caller): validate (or find the
    call's signature validated before), then run the kernel."""
    known = backend_of_type(type(x))
    key = None
    if known is not None and options.out_dtype is None and not known.is_tracing():
        key = _signature(kind, x, weight, bias, options, method)
    if key is not None:
        try:
            hit = CALLS.get(key)
        except TypeError:  # an unhashable part (TensorShape): the full path, uncached
            key = hit = None
        if hit is not None:
            backend, plan, kernel = hit
            backend.check_devices(x, weight, bias)
            return kernel(x, weight, bias, plan)
    generation = registry_generation()
    backend, xp, arrays, plan = prepare(kind, {"x": x, "weight": weight, "bias": bias}, options, method)
    if known is None and options.out_dtype is None and not backend.is_tracing():  # x's type seen for the first time
        key = _signature(kind, x, weight, bias, options, method)
        try:
            hash(key)
        except TypeError:
            key = None
    kernel = choose(backend, xp, arrays[0].dtype, method, plan)
    if key is not None and plan.static and arrays[0] is x and arrays[1] is weight and arrays[2] is bias and (
            not overridden()):
        kernel = backend.for_repeated_calls(kernel, plan)  # this call too: a signature always runs one way
        CALLS.put(key, (backend, plan, kernel))  # nothing converted or promoted: the signature decides all
        if registry_generation() != generation:  # a backend was registered meanwhile: the entry may be stale
            CALLS.clear()
    return kernel(*arrays, plan)


def run(backend: Backend, xp: Any, arrays: tuple[Any, Any, Any], plan: ConvPlan, method: str) -> Any:
    """Choose and call the kernel for arrays and a plan from :func:`prepare` (the chapter's functions)."""
    return choose(backend, xp, arrays[0].dtype, method, plan)(*arrays, plan)
