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
        # convolutions and stride together with dilation are computed correctly on the CPU,
        # eagerly and in tf.function, so no splitting is needed (the test matrix checks it).
        tf = self.framework
        if not plan.batched:
            x = x[None]
        if plan.data_format == "NCHW":
            x = tf.transpose(x, (0, 2, 3, 1))
        (top, bottom), (left, right) = plan.padding
        padding: Any = [[0, 0], [top, bottom], [left, right], [0, 0]]
        if not any((top, bottom, left, right)):
            padding = "VALID"
        filters = tf.transpose(weight, (2, 3, 1, 0))
        y = tf.nn.conv2d(x, filters, strides=plan.stride, padding=padding, dilations=plan.dilation)
        if bias is not None:
            y = tf.nn.bias_add(y, bias)
        if plan.data_format == "NCHW":
            y = tf.transpose(y, (0, 3, 1, 2))
        return y if plan.batched else y[0]
