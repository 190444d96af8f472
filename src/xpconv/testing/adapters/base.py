"""The adapter interface, and its generic form for a backend without an adapter of its own."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

import numpy as np

from ...backends import Backend, get_backend
from ..oracle import conv_oracle

Gradients = dict[str, np.ndarray]


class Adapter:
    """How tests and the CLI talk to one framework, independently of xpconv's backends.

    Subclasses set :attr:`name` (the backend's name) and, where it differs from the backend's
    module, :attr:`module` (what :meth:`load` imports).
    """

    name: str
    module: str | None = None
    #: The dtype names the library has at all (None: every dtype a test names); a test
    #: parametrized with a ``dtype`` the library lacks is deselected.
    dtypes: frozenset[str] | None = None
    #: Whether :meth:`gradients` differentiates through the framework's autodiff.
    autodiff: bool = False
    #: Whether the framework's own convolution (:meth:`native_call`) takes an input without its batch
    #: axis (PyTorch's ``F.conv*d``). Declared, never probed: TensorFlow with oneDNN aborts the process
    #: on an unbatched ``tf.nn.conv2d`` where, without it, it raises.
    native_takes_unbatched: bool = False

    def __init__(self) -> None:
        self.m: Any = None

    def __repr__(self) -> str:
        return self.name

    @property
    def backend(self) -> Backend:
        return get_backend(self.name)

    @property
    def has_native(self) -> bool:
        """Whether ``method="native"`` runs on this framework's arrays."""
        return self.backend.has_native

    def installed(self) -> bool:
        """Whether the framework can be imported (nothing is imported)."""
        top = (self.module or self.backend.module).split(".")[0]
        try:
            return importlib.util.find_spec(top) is not None
        except (ImportError, ValueError):
            return False

    def load(self) -> Adapter:
        """Import the framework (tests and the CLI run on every installed one); returns ``self``."""
        self.m = importlib.import_module(self.module or self.backend.module)
        return self

    def version(self) -> str:
        return str(getattr(self.m, "__version__", "unknown"))

    # -- arrays ---------------------------------------------------------------------------------
    def dtype(self, name: str) -> Any:
        return getattr(self.backend.namespace(None), name)

    def has_dtype(self, name: str) -> bool:
        return self.dtypes is None or name in self.dtypes

    def asarray(self, a: Any, dtype: str | None = None) -> Any:
        """``a`` (NumPy data) as an array of this framework, of ``dtype`` (a name) or ``a``'s own."""
        a = np.asarray(a)
        return self.backend.namespace(None).asarray(a, dtype=self.dtype(dtype or a.dtype.name))

    def array_of(self, name: str, data: Any) -> Any | None:
        """``data`` (NumPy) as an array of dtype ``name`` whether or not xpconv computes that dtype
        (tests of each backend's dtype table: what is outside it must be refused up front);
        ``None`` where the library has no such dtype."""
        try:
            return self.asarray(np.asarray(data), name)
        except Exception:  # no such dtype here: TypeError, AttributeError, ValueError, ...
            return None

    def to_numpy(self, t: Any) -> np.ndarray:
        return np.asarray(self.backend.to_numpy(t))

    def is_array(self, t: Any) -> bool:
        return self.backend.matches(t)

    def device(self, t: Any) -> Any:
        return self.backend.device(t)

    def sync(self, t: Any) -> Any:
        """``t`` once computed (asynchronous frameworks: JAX, MXNet)."""
        return t

    # -- how the framework runs at its best (xpconv bench) ------------------------------------------
    def compiled(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` as the framework runs it at its fastest (JAX: under ``jax.jit``)."""
        return fn

    def traced(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` traced into the framework's graph where it has a tracer that needs no compiler
        (JAX: ``jax.jit``; TensorFlow: ``tf.function``); elsewhere ``fn`` itself."""
        return self.compiled(fn)

    def taped(self, fn: Callable[[Any], Any], x: Any) -> Callable[[], Any] | None:
        """``fn(x)`` where a gradient may be recorded (TensorFlow: under a ``GradientTape``); ``None``
        where that changes nothing."""
        return None

    def use_every_core(self) -> None:
        """Let the framework use every core (PyTorch's thread count is set per process)."""

    # -- references -----------------------------------------------------------------------------
    def reference_conv2d(self, x: Any, w: Any, b: Any, *, stride: tuple[int, int],
                         padding: tuple[tuple[int, int], tuple[int, int]], dilation: tuple[int, int], groups: int) -> Any:
        """The framework's own NCHW convolution with explicit ``((top, bottom), (left, right))``
        padding; here, the float64 oracle in the inputs' dtype."""
        xn, wn = self.to_numpy(x), self.to_numpy(w)
        bn = None if b is None else self.to_numpy(b)
        y = conv_oracle(xn, wn, bn, stride=stride, padding=padding, dilation=dilation, groups=groups)
        return self.asarray(y.astype(xn.dtype))

    def gradients(self, conv: Callable[..., Any], x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                  g: np.ndarray, **options: Any) -> Gradients | None:
        """The gradients of ``sum(conv(x, w, b, **options) * g)`` through the framework's autodiff, as
        float64 NumPy arrays ``{"dx", "dw", "db"}`` (no ``"db"`` without a bias); ``None``: no autodiff."""
        return None

    def native_call(self, x: Any, w_np: np.ndarray, *, rank: int, stride: int, padding: int, dilation: int,
                    groups: int, transpose: bool, layout: str) -> Callable[[], Any] | None:
        """A call of the framework's own convolution on batched ``x`` (unbatched too where
        :attr:`native_takes_unbatched`; in ``layout``) and the weight ``w_np`` in its own layout, for
        ``xpconv bench``; ``None`` where it has none for this case."""
        return None


def named(grads: list[Any], to_numpy: Callable[[Any], Any]) -> Gradients:
    """Gradients (``dx``, ``dw`` and maybe ``db``) as float64 NumPy arrays by name."""
    return {name: np.asarray(to_numpy(d), dtype=np.float64) for name, d in zip(("dx", "dw", "db"), grads)}
