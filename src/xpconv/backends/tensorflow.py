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
        # dilated here by zero insertion; depthwise layers use TF's depthwise kernel (which has
        # a CPU gradient); other grouped layers keep the native forward, with a gradient taken
        # from the per-group split when a gradient can be recorded (see _grouped).
        # Raw ops with constant permutations: the tf.nn/tf.transpose wrappers and tensor
        # slicing cost 50-200 µs each in eager mode, more than a small convolution.
        tf = self.framework
        raw = tf.raw_ops
        # raw ops do not record a tf.Variable's read on a GradientTape: convert first
        x, weight = tf.convert_to_tensor(x), tf.convert_to_tensor(weight)
        if not plan.batched:
            x = raw.ExpandDims(input=x, axis=0)
        if plan.data_format == "NCHW":
            x = raw.Transpose(x=x, perm=self._perm((0, 2, 3, 1)))
        (top, bottom), (left, right) = plan.padding
        pads = {"padding": "VALID", "explicit_paddings": []}
        if any((top, bottom, left, right)):
            pads = {"padding": "EXPLICIT", "explicit_paddings": [0, 0, top, bottom, left, right, 0, 0]}
        strides = [1, plan.stride[0], plan.stride[1], 1]
        if plan.groups > 1 and plan.groups == plan.in_channels and plan.stride[0] == plan.stride[1]:
            multiplier = plan.out_channels // plan.groups
            kh, kw = plan.kernel_hw
            per_channel = raw.Reshape(tensor=weight, shape=self._perm((plan.in_channels, multiplier, kh, kw)))
            filters = raw.Transpose(x=per_channel, perm=self._perm((2, 3, 0, 1)))
            filters = _dilate(tf, filters, plan.dilation)
            y = raw.DepthwiseConv2dNative(input=x, filter=filters, strides=strides, data_format="NHWC", **pads)
        else:
            filters = _dilate(tf, raw.Transpose(x=weight, perm=self._perm((2, 3, 1, 0))), plan.dilation)
            if plan.groups == 1:
                y = raw.Conv2D(input=x, filter=filters, strides=strides, data_format="NHWC", **pads)
            else:
                y = _grouped(tf, x, filters, strides, pads, plan.groups)
        if bias is not None:
            y = raw.BiasAdd(value=y, bias=tf.convert_to_tensor(bias), data_format="NHWC")
        if plan.data_format == "NCHW":
            y = raw.Transpose(x=y, perm=self._perm((0, 3, 1, 2)))
        return y if plan.batched else raw.Squeeze(input=y, axis=[0])

    def _perm(self, perm: tuple[int, ...]) -> Any:
        """An int32 constant for a permutation or shape, made once."""
        cache = self.__dict__.setdefault("_perms", {})
        if perm not in cache:
            with self.framework.init_scope():  # a constant made once, outside any tf.function graph
                cache[perm] = self.framework.constant(perm, dtype=self.framework.int32)
        return cache[perm]


def _could_record_gradient(tf: Any) -> bool:
    """Whether a gradient of this op may be asked for: inside a graph, or under a GradientTape."""
    if not tf.executing_eagerly():
        return True
    try:
        from tensorflow.python.eager import record
    except ImportError:  # private module moved: assume a gradient may be taken
        return True
    return bool(record.could_possibly_record())


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


def _grouped(tf: Any, x: Any, filters: Any, strides: Any, pads: dict, groups: int) -> Any:
    """Native grouped forward; where a gradient may be taken, it comes from one ordinary
    convolution per group (TF's CPU has no gradient for grouped convolutions)."""

    def conv(x: Any, filters: Any) -> Any:
        return tf.raw_ops.Conv2D(input=x, filter=filters, strides=strides, data_format="NHWC", **pads)

    if not _could_record_gradient(tf):
        return conv(x, filters)

    def split(x: Any, filters: Any) -> Any:
        pairs = zip(tf.split(x, groups, axis=3), tf.split(filters, groups, axis=3))
        return tf.concat([conv(a, f) for a, f in pairs], axis=3)

    @tf.custom_gradient
    def grouped(x: Any, filters: Any) -> Any:
        def grad(dy: Any) -> Any:
            with tf.GradientTape() as tape:
                tape.watch([x, filters])
                y = split(x, filters)
            return tape.gradient(y, [x, filters], output_gradients=dy)

        return conv(x, filters), grad

    return grouped(x, filters)
