"""The interface every backend adapter implements."""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from .._dtypes import STANDARD

if TYPE_CHECKING:
    from types import ModuleType

    import numpy as np

    from .._spec import ConvPlan, Requirement


class Backend:
    """One array library, as xpconv sees it.

    Subclasses set :attr:`name` and :attr:`module` and implement :meth:`matches` and
    :meth:`namespace`; those with a native convolution also set :attr:`has_native`
    and implement :meth:`native_forward` and :meth:`native_supports` (and
    :meth:`native_transposed` where the framework has a transposed convolution).

    A backend is consulted only when :attr:`module` is already in ``sys.modules``:
    xpconv never imports a framework the caller has not imported.
    """

    name: ClassVar[str]
    #: Top-level module that must already be imported for this backend to be consulted.
    module: ClassVar[str]
    #: Distribution name, for version reports.
    distribution: ClassVar[str] = ""
    has_native: ClassVar[bool] = False
    #: The dtypes this backend computes, by name (the README's table); every other dtype is
    #: refused with a TypeError before any work. The Array API's real dtypes by default.
    dtypes: ClassVar[frozenset[str]] = STANDARD

    def dtype_hint(self, name: str) -> str:
        """Why this backend lacks the dtype ``name`` where it is a setting (``"; ..."``), else ``""``."""
        return ""

    @property
    def framework(self) -> ModuleType:
        return sys.modules[self.module]

    def is_loaded(self) -> bool:
        """Whether the framework is imported: a real module, not ``None`` (an import blocked
        with ``sys.modules[name] = None``) and not a stub lacking what :meth:`matches` needs."""
        module = sys.modules.get(self.module)
        return module is not None and self.looks_usable(module)

    def looks_usable(self, module: ModuleType) -> bool:
        """Whether ``module`` has what this backend uses (a stub module may not)."""
        return True

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

    def matches(self, x: object) -> bool:
        """Whether ``x`` is an array of this library (called only when loaded)."""
        raise NotImplementedError

    def namespace(self, x: Any) -> Any:
        """The Array API namespace that the portable kernel uses for ``x``."""
        raise NotImplementedError

    def device(self, x: Any) -> Any:
        """The device ``x`` lives on, or ``None`` where it cannot be known (tracers)."""
        from array_api_compat import device

        try:
            return device(x)
        except Exception:  # JAX tracers and the like have no concrete device
            return None

    def asarray_like(self, value: Any, like: Any, name: str = "x") -> Any:
        """``value`` (a Python list or scalar) as an array of this library on ``like``'s device, in the
        dtype the Array API gives Python scalars beside ``like`` (:mod:`xpconv.backends._lists`);
        alone (``like`` is None), in the library's default dtypes."""
        from ._lists import list_dtype, numbers

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
        import sys

        numpy = sys.modules.get("numpy")
        if numpy is None or type(value) is not numpy.ndarray:
            return None
        return self.namespace(like).asarray(value, device=self.device(like))

    def version(self) -> str:
        return str(getattr(self.framework, "__version__", "unknown"))

    def to_numpy(self, x: Any) -> np.ndarray:
        """A NumPy copy of ``x`` (for reports and tests, never inside ``conv2d``)."""
        import numpy as np

        return np.asarray(x)

    # -- native kernel -------------------------------------------------------------
    def native_supports(self, dtype: Any) -> bool:
        """Whether :meth:`native_forward` accepts ``dtype``."""
        return False

    def add_batch(self, x: Any) -> Any:
        """``x`` with a leading batch axis of 1 (for unbatched inputs; kernels see batched arrays)."""
        return x[None, ...]

    def drop_batch(self, y: Any) -> Any:
        """``y`` without its leading batch axis of 1."""
        return y[0, ...]

    def auto_kernel(self, xp: Any, dtype: Any, plan: ConvPlan) -> Callable[[Any, Any, Any, ConvPlan], Any]:
        """What ``method="auto"`` runs for ``dtype`` and ``plan``: the native kernel where it takes
        the dtype, else the portable one. Called once per call signature; the answer is cached."""
        if self.has_native and self.native_supports(dtype):
            return self.native_kernel(plan)
        return self.portable_kernel(xp)

    def portable_kernel(self, xp: Any) -> Callable[[Any, Any, Any, ConvPlan], Any]:
        """What ``method="portable"`` runs: the Array API kernel on ``xp`` (a backend whose arrays
        need converting around it, such as MXNet's ``mx.nd``, wraps it)."""
        from .. import _portable

        return functools.partial(_portable.conv, xp)

    def native_kernel(self, plan: ConvPlan) -> Callable[[Any, Any, Any, ConvPlan], Any]:
        """The native kernel for ``plan``: :meth:`native_forward` itself for a zero-padded forward
        convolution (the fast path adds no call); padding modes are applied first (natives pad
        with zeros only), and a transposed plan runs :meth:`native_transposed`."""
        if plan.transposed:
            return self.native_transposed
        if plan.zero_padded:
            return self.native_forward
        from .._padding import pad

        sizes = tuple(n + a + b for n, (a, b) in zip(plan.in_size, plan.padding))
        padded = dataclasses.replace(plan, in_size=sizes, padding=((0, 0),) * plan.rank, padding_mode="zeros",
                                     same=False)
        first = 1 if plan.channels_last else 2

        def prepadded(x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
            x = pad(self.namespace(x), x, list(plan.batched_input_shape), plan.padding, tuple(range(first, first + plan.rank)), plan.padding_mode)
            return self.native_forward(x, weight, bias, padded)

        return prepadded

    def dense(self, name: str, a: Any) -> Any:
        """``a``, an array of this library, as the plain dense array xpconv computes with (NumPy's
        ``np.matrix`` as an ndarray); a ``TypeError`` naming ``name`` for what cannot be one as it is
        (a sparse, nested or masked array)."""
        return a

    def check_devices(self, x: Any, weight: Any, bias: Any) -> None:
        """Raise unless the arrays share a device (where devices can be known)."""
        device = self.device(x)
        if device is None:
            return
        if self.device(weight) != device or (bias is not None and self.device(bias) != device):
            from ._registry import _check_devices

            _check_devices(self, {n: a for n, a in (("x", x), ("weight", weight), ("bias", bias)) if a is not None})

    def own_kernel(self, kernel: Callable[[Any, Any, Any, ConvPlan], Any]) -> Callable[[Any, Any, Any, ConvPlan], Any]:
        """``kernel`` as it runs on this library's arrays (a backend whose arrays need converting
        around a kernel, such as MXNet's ``mx.nd``, wraps it)."""
        return kernel

    def guard_empty_batch(self, kernel: Callable[[Any, Any, Any, ConvPlan], Any],
                          empty: Callable[[Any, Any, Any, ConvPlan], Any]) -> Callable[[Any, Any, Any, ConvPlan], Any]:
        """``kernel`` for a batch known only at run time; where the framework's kernels can go wrong
        on an empty batch (TensorFlow with oneDNN returns its input), ``empty`` runs for a batch of 0."""
        return kernel

    def require(self, x: Any, requirements: tuple[Requirement, ...]) -> Any:
        """Check the plan's run-time requirements (sizes the framework knows only when it runs) and
        return ``x``. Here: sizes that compare as Python values; backends with symbolic sizes
        check in their own way (a graph assertion, ``torch._check``, a shape constraint)."""
        for requirement in requirements:
            if not bool(requirement.lhs >= requirement.rhs):
                raise ValueError(requirement.message)
        return x

    def method_kernel(self, xp: Any, dtype: Any, method: str, plan: ConvPlan) -> Callable[[Any, Any, Any, ConvPlan], Any] | None:
        """The kernel for every ``method``, where this backend picks it itself (a container library
        that hands ``method`` on to its blocks); ``None``: the usual choice (``auto_kernel`` etc.)."""
        return None

    def native_forward(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        """The framework's own convolution of batched arrays with zero padding, with xpconv's semantics."""
        raise NotImplementedError(f"backend {self.name!r} has no native convolution")

    def native_transposed(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        """A transposed convolution of batched arrays: the forward convolution it equals (see
        :mod:`xpconv._transpose`) run by :meth:`native_forward`, unless overridden."""
        from .._transpose import conv_transpose

        return conv_transpose(self.namespace(x), self.native_forward, x, weight, bias, plan)

    def __repr__(self) -> str:
        return f"<xpconv backend {self.name!r}>"
