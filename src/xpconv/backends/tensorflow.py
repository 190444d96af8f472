"""TensorFlow: native kernel ``tf.nn.conv2d`` run in NHWC; our own Array API namespace."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base import Backend

if TYPE_CHECKING:
    from .._spec import ConvPlan


class TensorflowBackend(Backend):
    name = "tensorflow"
    module = "tensorflow"
    distribution = "tensorflow"
    has_native = True

    def matches(self, x: object) -> bool:
        tf = self.framework
        return isinstance(x, (tf.Tensor, tf.Variable))

    def namespace(self, x: Any) -> Any:
        from . import tensorflow_namespace

        return tensorflow_namespace

    def device(self, x: Any) -> Any:
        try:
            return x.device or None  # symbolic tensors in tf.function have no device yet
        except Exception:
            return None

    def to_numpy(self, x: Any) -> Any:
        return x.numpy()

    def native_supports(self, dtype: Any) -> bool:
        tf = self.framework
        return dtype in (tf.float16, tf.bfloat16, tf.float32, tf.float64)

    def native_conv2d(self, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
        # TensorFlow's CPU kernels want NHWC and HWIO filters. Measured on TF 2.21: grouped
        # and dilated convolutions run forward on the CPU, eagerly and in tf.function, but
        # neither has a gradient there ("Gradients for grouped convolutions are not supported
        # on CPU"; "... do not yet support dilation rates larger than 1"). So the filter is
        # dilated here by zero insertion, and a grouped convolution keeps the native forward
        # with a gradient taken from its per-group split (see _grouped).
        tf = self.framework
        x = tf.convert_to_tensor(x)
        if not plan.batched:
            x = x[None]
        if plan.data_format == "NCHW":
            x = tf.transpose(x, (0, 2, 3, 1))
        (top, bottom), (left, right) = plan.padding
        padding: Any = [[0, 0], [top, bottom], [left, right], [0, 0]]
        if not any((top, bottom, left, right)):
            padding = "VALID"
        filters = _dilate(tf, tf.transpose(weight, (2, 3, 1, 0)), plan.dilation)
        if plan.groups == 1:
            y = tf.nn.conv2d(x, filters, strides=plan.stride, padding=padding)
        else:
            y = _grouped(tf, x, filters, plan.stride, padding, plan.groups)
        if bias is not None:
            y = tf.nn.bias_add(y, bias)
        if plan.data_format == "NCHW":
            y = tf.transpose(y, (0, 3, 1, 2))
        return y if plan.batched else y[0]


def _dilate(tf: Any, filters: Any, dilation: tuple[int, int]) -> Any:
    """An HWIO filter with ``d - 1`` zeros between taps along H and W: differentiable everywhere."""
    for axis, d in enumerate(dilation):
        if d > 1:
            k = filters.shape[axis]
            spread = tf.stack([filters] + [tf.zeros_like(filters)] * (d - 1), axis=axis + 1)
            shape = list(filters.shape)
            shape[axis] = k * d
            filters = tf.reshape(spread, shape)
            filters = filters[: (k - 1) * d + 1] if axis == 0 else filters[:, : (k - 1) * d + 1]
    return filters


def _grouped(tf: Any, x: Any, filters: Any, strides: Any, padding: Any, groups: int) -> Any:
    """Native grouped forward; gradient through one ordinary convolution per group."""

    def split(x: Any, filters: Any) -> Any:
        pairs = zip(tf.split(x, groups, axis=3), tf.split(filters, groups, axis=3))
        return tf.concat([tf.nn.conv2d(a, f, strides=strides, padding=padding) for a, f in pairs], axis=3)

    @tf.custom_gradient
    def conv(x: Any, filters: Any) -> Any:
        def grad(dy: Any) -> Any:
            with tf.GradientTape() as tape:
                tape.watch([x, filters])
                y = split(x, filters)
            return tape.gradient(y, [x, filters], output_gradients=dy)

        return tf.nn.conv2d(x, filters, strides=strides, padding=padding), grad

    return conv(x, filters)
