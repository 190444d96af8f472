"""TensorFlow: native kernels ``Conv2D`` (1-D and 2-D) and ``Conv3D``, run channels last
(:mod:`.native`); xpconv's own Array API namespace for tensors (:mod:`.namespace`). Importing this
package imports neither: they import TensorFlow, which only a caller holding a tensor has done."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..._dtypes import STANDARD
from ..base import Backend, Kernel
from . import native

if TYPE_CHECKING:
    from ..._plan import ConvPlan


class TensorflowBackend(Backend):
    name = "tensorflow"
    module = "tensorflow"
    priority = 40
    extra = "tensorflow"
    lane = "tensorflow"
    requirements = ("numpy.txt", "tensorflow.txt")
    default = True
    #: TensorFlow turns oneDNN on by default only on CPUs with AVX-512 (VNNI/BF16/AMX); with it on,
    #: its kernels and Grappler's fusions differ (an empty batch came back as the input): its lane
    #: runs with oneDNN forced off and on.
    cpu_switches = (("onednn", "TF_ENABLE_ONEDNN_OPTS", ("0", "1")),)
    preferred_layout = "channels_last"
    dtypes = (STANDARD - {"uint64"}) | {"float16", "bfloat16"}  # uint64: no CPU BatchMatMul kernel
    native_dtypes = frozenset({"float16", "bfloat16", "float32", "float64"})

    def looks_usable(self, module: Any) -> bool:
        return hasattr(module, "Tensor") and hasattr(module, "Variable")

    def matches(self, x: object) -> bool:
        tf = self.framework
        found = isinstance(x, (tf.Tensor, tf.Variable))
        if found:
            native.keep_autograph_out()
        return found

    def shape(self, x: Any) -> tuple[Any, ...]:
        """Static sizes as ints; a size that is ``None`` at trace time (``tf.function`` with an
        input signature, Keras' symbolic batch) as a scalar tensor of its run-time value."""
        static = x.shape
        if static.rank is None:
            raise ValueError(f"shape {static} has an unknown rank")
        dims = static.as_list()
        if None not in dims:
            return tuple(dims)
        dynamic = self.framework.shape(x)
        return tuple(dynamic[i] if d is None else d for i, d in enumerate(dims))

    def size_max(self, a: Any, b: Any) -> Any:
        return self.framework.maximum(a, b)

    def namespace(self, x: Any) -> Any:
        from . import namespace

        return namespace

    def device(self, x: Any) -> Any:
        try:
            return x.device or None  # symbolic tensors in tf.function have no device yet
        except Exception:
            return None

    def to_numpy(self, x: Any) -> Any:
        return x.numpy()

    def guard_empty_batch(self, kernel: Any, empty: Any) -> Any:
        """A batch known only at run time runs ``kernel`` only when it is not empty: with oneDNN on
        (the default on CPUs with AVX-512), TensorFlow's convolutions return their input unchanged
        for an empty batch."""
        tf = self.framework

        def guarded(x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
            return tf.cond(tf.shape(x)[0] > 0, lambda: kernel(x, weight, bias, plan),
                           lambda: empty(x, weight, bias, plan))

        return guarded

    def require(self, x: Any, requirements: Any) -> Any:
        """Sizes known only at run time are checked by graph assertions that ``x`` depends on;
        their message names the argument as the eager check does."""
        tf = self.framework
        checks = []
        for requirement in requirements:
            lhs, rhs = requirement.lhs, requirement.rhs
            if isinstance(lhs, int) and isinstance(rhs, int):
                if lhs < rhs:
                    raise ValueError(requirement.message)
                continue
            checks.append(tf.debugging.assert_greater_equal(
                tf.cast(lhs, tf.int64), tf.cast(rhs, tf.int64), message=requirement.message))
        if not checks:
            return x
        with tf.control_dependencies(checks):
            return tf.identity(x)

    def add_batch(self, x: Any) -> Any:
        return self.framework.raw_ops.ExpandDims(input=x, axis=0)

    def drop_batch(self, y: Any) -> Any:
        return self.framework.raw_ops.Squeeze(input=y, axis=[0])

    def native_forward(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        return native.forward(self.framework, x, weight, bias, plan)

    def native_transposed(self, plan: ConvPlan) -> Kernel | None:
        """``Conv2DBackpropInput`` where it applies (:func:`native.has_transposed`); otherwise the
        dispatcher runs the forward convolution it equals."""
        if not native.has_transposed(plan):
            return None
        return lambda x, weight, bias, plan: native.transposed(self.framework, x, weight, bias, plan)
