"""The interface every backend implements: what it recognizes, how it converts, what it can compute.

A backend declares, as class attributes, everything the rest of xpconv reads about it: its name
and module, the pip extra, test lane and requirement files that install it (``noxfile.py``, the
CLI and the test fixture read them), the dtypes it computes, and its capabilities (a native
convolution and the dtypes it takes, a native transposed convolution for some plans, plans where
xpconv's own kernel is faster). The dispatcher (:mod:`xpconv.dispatch`) chooses a kernel from
those declarations alone.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from .._dtypes import STANDARD, dtype_name
from .devices import check_devices

if TYPE_CHECKING:
    from types import ModuleType

    import numpy as np

    from .._plan import ConvPlan, Requirement

Kernel = Callable[[Any, Any, Any, "ConvPlan"], Any]
#: A kernel with this attribute set true takes an unbatched input as it comes, as the library's own
#: convolution does (PyTorch's ``F.conv*d``): the dispatcher adds and removes no batch axis around it.
TAKES_UNBATCHED = "takes_unbatched"


class Backend:
    """One array library, as xpconv sees it.

    Subclasses set :attr:`name` and :attr:`module` and implement :meth:`matches` and
    :meth:`namespace`; those with a native convolution also list :attr:`native_dtypes` and
    implement :meth:`native_forward` (and :meth:`native_transposed` where the framework has a
    transposed convolution). A backend is consulted only when :attr:`module` is already in
    ``sys.modules``: xpconv never imports a framework the caller has not imported.
    """

    #: The backend's name (in ``XPCONV_BACKENDS``, ``xpconv bench --backend`` and messages).
    name: ClassVar[str]
    #: Top-level module that must already be imported for this backend to be consulted.
    module: ClassVar[str]
    #: The order in which backends are consulted (lower first); the generic fallback comes last.
    priority: ClassVar[int] = 50
    #: ``pip install "xpconv[EXTRA]"`` installs it (None: a dependency of xpconv, or not installable).
    extra: ClassVar[str | None] = None
    #: Its test lane, ``nox -s tests-LANE`` (None: no lane of its own).
    lane: ClassVar[str | None] = None
    #: The requirement files in ``backends/`` that its lane installs; the first is the base, whose
    #: NumPy pin the lane uses (MXNet's is NumPy 1.23.5).
    requirements: ClassVar[tuple[str, ...]] = ()
    #: Other backends whose tests run in its lane beside it (MXNet's environment holds NumPy and
    #: array_api_strict too; the matrix compares them there).
    lane_with: ClassVar[tuple[str, ...]] = ()
    #: In the default test matrix (``tests-all``); False: selected only by name (it cannot share an
    #: environment with the others, or is an extra).
    default: ClassVar[bool] = False
    #: Settings whose default differs between CPUs, forced to each value: ``(label, environment
    #: variable, values)``; a default backend's lane runs all but the last, which ``tests-all`` forces.
    cpu_switches: ClassVar[tuple[tuple[str, str, tuple[str, ...]], ...]] = ()
    #: The dtypes this backend computes, by name; every other dtype is refused with a TypeError
    #: before any work. The Array API's real and complex dtypes by default.
    dtypes: ClassVar[frozenset[str]] = STANDARD
    #: The dtypes its native convolution takes; empty: it has none.
    native_dtypes: ClassVar[frozenset[str]] = frozenset()
    #: The layout its own convolutions prefer (what ``xpconv bench`` times it in).
    preferred_layout: ClassVar[str] = "channels_first"
    #: A container library (Dask): its kernel hands each block back to xpconv, on the blocks' library.
    container: ClassVar[bool] = False
    #: Elements of transformed data per block of a fast algorithm (None: the kernel's default,
    #: :data:`xpconv.kernels.transform.SCRATCH_ELEMENTS`); measured per backend (``xpconv bench``).
    transform_block_elements: ClassVar[int | None] = None

    # -- recognition ----------------------------------------------------------------------------
    @property
    def framework(self) -> ModuleType:
        return sys.modules[self.module]

    def lane_switches(self) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
        """:attr:`cpu_switches` with the values its lane forces: all but the last for a default
        backend, whose last value ``tests-all`` forces (:meth:`forced_in_all`): each value runs once."""
        return tuple((label, variable, values[:-1] if self.default else values)
                     for label, variable, values in self.cpu_switches)

    def forced_in_all(self) -> dict[str, str]:
        """The environment ``tests-all`` sets for this backend's CPU switches (default backends only)."""
        return {variable: values[-1] for _label, variable, values in self.cpu_switches} if self.default else {}

    def is_loaded(self) -> bool:
        """Whether the framework is imported: a real module, not ``None`` (an import blocked
        with ``sys.modules[name] = None``) and not a stub lacking what :meth:`matches` needs."""
        module = sys.modules.get(self.module)
        return module is not None and self.looks_usable(module)

    def looks_usable(self, module: ModuleType) -> bool:
        """Whether ``module`` has what this backend uses (a stub module may not)."""
        return True

    def matches(self, x: object) -> bool:
        """Whether ``x`` is an array of this library (called only when loaded)."""
        raise NotImplementedError

    def namespace(self, x: Any) -> Any:
        """The Array API namespace that xpconv's kernels use for ``x``."""
        raise NotImplementedError

    def device(self, x: Any) -> Any:
        """The device ``x`` lives on, or ``None`` where it cannot be known (tracers)."""
        from array_api_compat import device

        try:
            return device(x)
        except Exception:  # JAX tracers and the like have no concrete device
            return None

    def shape(self, x: Any) -> tuple[Any, ...]:
        """``x``'s shape; sizes unknown at trace time as symbolic values the framework computes
        with (``SymInt``, JAX symbolic dimensions, or a backend's own scalar tensors)."""
        return tuple(x.shape)

    def is_tracing(self) -> bool:
        """Whether the framework is tracing with sizes that look like ints but may be symbolic
        (``torch.compile``): then nothing is cached or branched on by size."""
        return False

    def size_max(self, a: Any, b: Any) -> Any:
        """The larger of two sizes, either of which may be symbolic (see :meth:`shape`)."""
        return max(a, b)

    def version(self) -> str:
        return str(getattr(self.framework, "__version__", "unknown"))

    def to_numpy(self, x: Any) -> np.ndarray:
        """A NumPy copy of ``x`` (for reports and tests, never inside a convolution)."""
        import numpy as np

        return np.asarray(x)

    # -- arrays in ------------------------------------------------------------------------------
    def dense(self, name: str, a: Any) -> Any:
        """``a``, an array of this library, as the plain dense array xpconv computes with (NumPy's
        ``np.matrix`` as an ndarray); a ``TypeError`` naming ``name`` for what cannot be one as it is
        (a sparse, nested or masked array)."""
        return a

    def asarray_like(self, value: Any, like: Any, name: str = "x") -> Any:
        """``value`` (a Python list or scalar) as an array of this library on ``like``'s device, in the
        dtype the Array API gives Python scalars beside ``like`` (:mod:`xpconv.backends.lists`);
        alone (``like`` is None), in the library's default dtypes."""
        from .lists import list_dtype, numbers

        data = numbers(name, value)
        if like is None:
            return self.namespace(like).asarray(data)
        xp = self.namespace(like)
        return xp.asarray(data, dtype=list_dtype(xp, name, data, like), device=self.device(like))

    def adopt(self, value: Any, like: Any) -> Any:
        """``value``, an array of another library, as an array of this one for a call whose input is
        ``like``; ``None`` refuses (then mixing libraries is a ``TypeError``). A NumPy array is
        converted onto ``like``'s library and device, keeping its dtype (as ``jnp`` and ``tf``
        functions take NumPy arrays); container libraries (Dask) also take their chunks' library."""
        numpy = sys.modules.get("numpy")
        if numpy is None or type(value) is not numpy.ndarray:
            return None
        return self.namespace(like).asarray(value, device=self.device(like))

    def check_devices(self, x: Any, weight: Any, bias: Any) -> None:
        """Raise unless the arrays share a device (where devices can be known); run on every call."""
        device = self.device(x)
        if device is None:
            return
        if self.device(weight) != device or (bias is not None and self.device(bias) != device):
            check_devices(self.device, {n: a for n, a in (("x", x), ("weight", weight), ("bias", bias)) if a is not None})

    def dtype_hint(self, name: str) -> str:
        """Why this backend lacks the dtype ``name`` where it is a setting (``"; ..."``), else ``""``."""
        return ""

    def require(self, x: Any, requirements: tuple[Requirement, ...]) -> Any:
        """Check the plan's run-time requirements (sizes the framework knows only when it runs) and
        return ``x``. Here: sizes that compare as Python values; backends with symbolic sizes
        check in their own way (a graph assertion, ``torch._check``, a shape constraint)."""
        for requirement in requirements:
            if not bool(requirement.lhs >= requirement.rhs):
                raise ValueError(requirement.message)
        return x

    # -- around a kernel ------------------------------------------------------------------------
    def add_batch(self, x: Any) -> Any:
        """``x`` with a leading batch axis of 1 (for unbatched inputs; kernels see batched arrays)."""
        return x[None, ...]

    def drop_batch(self, y: Any) -> Any:
        """``y`` without its leading batch axis of 1."""
        return y[0, ...]

    def adapt(self, kernel: Kernel) -> Kernel:
        """``kernel`` as it runs on this library's arrays (a backend whose arrays need converting
        around a kernel, such as MXNet's ``mx.nd``, wraps it)."""
        return kernel

    def for_repeated_calls(self, kernel: Kernel, plan: ConvPlan) -> Kernel:
        """``kernel`` as kept for every call of one signature (static sizes, validated once): where
        a library runs a whole program faster than its operations one by one (JAX), it compiles
        ``kernel`` for ``plan`` here, once."""
        return kernel

    def guard_empty_batch(self, kernel: Kernel, empty: Kernel) -> Kernel:
        """``kernel`` for a batch known only at run time; where the framework's kernels can go wrong
        on an empty batch (TensorFlow with oneDNN returns its input), ``empty`` runs for a batch of 0."""
        return kernel

    # -- capabilities (read by the dispatcher) ------------------------------------------------------
    @property
    def has_native(self) -> bool:
        """Whether this library has a convolution of its own."""
        return bool(self.native_dtypes)

    def native_takes(self, dtype: Any) -> bool:
        """Whether the native convolution computes ``dtype``."""
        return dtype_name(dtype) in self.native_dtypes

    def native_backend(self, x: Any) -> Backend:
        """The backend whose native convolution ``method="native"`` runs for ``x``: this one; a
        container library's, that of its blocks."""
        return self

    def native_kernel(self, plan: ConvPlan) -> Kernel:
        """The native forward kernel for a zero-padded ``plan`` (a backend may return a closure over
        the plan's arguments, so that the fast path adds a single call)."""
        return self.native_forward

    def native_forward(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        """The framework's own convolution of batched arrays with zero padding, with xpconv's semantics."""
        raise NotImplementedError(f"backend {self.name!r} has no native convolution")

    def native_transposed(self, plan: ConvPlan) -> Kernel | None:
        """The framework's own transposed convolution for ``plan``, or ``None``: then the dispatcher
        runs the forward convolution it equals (:mod:`xpconv.kernels.transpose`) on a forward kernel."""
        return None

    def prefers_own(self, plan: ConvPlan, dtype: Any) -> bool:
        """Whether ``method="auto"`` runs xpconv's own kernel although the native one takes ``plan``
        (measured faster with ``xpconv bench``)."""
        return False

    def direct_kernel(self, xp: Any, plan: ConvPlan) -> Kernel:
        """xpconv's own direct kernel for this library: the one written against the Array API."""
        import functools

        from ..kernels import direct

        return functools.partial(direct.conv, xp)

    def container_kernel(self, method: str, call: Callable[..., Any]) -> Kernel:
        """A container library's kernel: ``call(kind, block, weight, bias, options, method)`` is how
        each block goes back through xpconv (injected by the dispatcher)."""
        raise NotImplementedError(f"backend {self.name!r} is not a container library")

    def __repr__(self) -> str:
        return f"<xpconv backend {self.name!r}>"
