"""The interface every backend adapter implements."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from .._dtypes import STANDARD

if TYPE_CHECKING:
    from types import ModuleType

    import numpy as np

    from .._spec import ConvPlan


class Backend:
    """One array library, as xpconv sees it.

    Subclasses set :attr:`name` and :attr:`module` and implement :meth:`matches` and
    :meth:`namespace`; those with a native convolution also set :attr:`has_native`
    and implement :meth:`native_conv2d` and :meth:`native_supports`.

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

    def asarray_like(self, value: Any, like: Any) -> Any:
        """``value`` (a Python list or scalar) as an array of this library, on ``like``'s device."""
        xp = self.namespace(like)
        if like is None:
            return xp.asarray(value)
        return xp.asarray(value, device=self.device(like))

    def version(self) -> str:
        return str(getattr(self.framework, "__version__", "unknown"))

    def to_numpy(self, x: Any) -> np.ndarray:
        """A NumPy copy of ``x`` (for reports and tests, never inside ``conv2d``)."""
        import numpy as np

        return np.asarray(x)

    # -- native kernel -------------------------------------------------------------
    def native_supports(self, dtype: Any) -> bool:
        """Whether :meth:`native_conv2d` accepts ``dtype``."""
        return False

    def auto_kernel(self, xp: Any, dtype: Any, plan: ConvPlan) -> Callable[[Any, Any, Any, ConvPlan], Any]:
        """What ``method="auto"`` runs for ``dtype`` and ``plan``: the native kernel where it takes
        the dtype, else the portable one. Called once per call signature; the answer is cached."""
        if self.has_native and self.native_supports(dtype):
            return self.native_conv2d
        return self.portable_kernel(xp)

    def portable_kernel(self, xp: Any) -> Callable[[Any, Any, Any, ConvPlan], Any]:
        """What ``method="portable"`` runs: the Array API kernel on ``xp`` (a backend whose arrays
        need converting around it, such as MXNet's ``mx.nd``, wraps it)."""
        from .. import _portable

        return functools.partial(_portable.conv2d, xp)

    def check_devices(self, x: Any, weight: Any, bias: Any) -> None:
        """Raise unless the arrays share a device (where devices can be known)."""
        device = self.device(x)
        if device is None:
            return
        if self.device(weight) != device or (bias is not None and self.device(bias) != device):
            from ._registry import _check_devices

            _check_devices(self, {n: a for n, a in (("x", x), ("weight", weight), ("bias", bias)) if a is not None})

    def native_conv2d(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        """The framework's own convolution, with xpconv's semantics."""
        raise NotImplementedError(f"backend {self.name!r} has no native convolution")

    def __repr__(self) -> str:
        return f"<xpconv backend {self.name!r}>"
