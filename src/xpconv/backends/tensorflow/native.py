"""TensorFlow's own convolutions with xpconv's semantics: ``Conv2D`` (1-D over a unit axis),
``DepthwiseConv2dNative``, ``Conv3D`` and ``Conv2DBackpropInput``, run channels last through raw ops.

The arrays are batched tensors (see :class:`xpconv.backends.tensorflow.TensorflowBackend`).
Raw ops with constant permutations: the ``tf.nn``/``tf.transpose`` wrappers and tensor slicing
cost 50-200 µs each in eager mode, more than a small convolution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...cache import LRUCache

if TYPE_CHECKING:
    from ..._plan import ConvPlan


def forward(tf: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
    """``Conv2D``/``DepthwiseConv2dNative`` (1-D: with a unit axis), ``Conv3D``; run channels last."""
    raw = tf.raw_ops
    # raw ops do not record a tf.Variable's read on a GradientTape: convert first
    x, weight = tf.convert_to_tensor(x), tf.convert_to_tensor(weight)
    if plan.rank == 1:  # a 2-D convolution over a unit H axis
        axis = plan.spatial_axes[0]
        x = raw.ExpandDims(input=x, axis=axis)
        y = _conv2d(tf, x, raw.ExpandDims(input=weight, axis=2), bias, plan.lifted())
        return raw.Squeeze(input=y, axis=[axis])
    if plan.rank == 3:
        return _conv3d(tf, x, weight, bias, plan)
    return _conv2d(tf, x, weight, bias, plan)


def has_transposed(plan: ConvPlan) -> bool:
    """Whether ``Conv2DBackpropInput`` computes the transposed ``plan``: 1-D or 2-D, no groups, no
    dilation, output padding below the stride (TF's CPU kernel has no more)."""
    return plan.rank <= 2 and plan.groups == 1 and all(d == 1 for d in plan.dilation) and all(
        op < s for op, s in zip(plan.output_padding, plan.stride))


def transposed(tf: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
    """``Conv2DBackpropInput``, TF's own transposed convolution (1-D over a unit axis), for a plan
    that :func:`has_transposed` accepts."""
    raw = tf.raw_ops
    x, weight = tf.convert_to_tensor(x), tf.convert_to_tensor(weight)
    axis = plan.spatial_axes[0]
    if plan.rank == 1:
        x, weight, lifted = raw.ExpandDims(input=x, axis=axis), raw.ExpandDims(input=weight, axis=2), plan.lifted()
    else:
        lifted = plan
    perm = _constants(tf)
    x = _channels_last(tf, x, lifted)
    batch = plan.batch if isinstance(plan.batch, int) else raw.Shape(input=x)[0]
    sizes = raw.Pack(values=[batch, *lifted.out_size, plan.out_channels]) if not isinstance(batch, int) else \
        perm((batch, *lifted.out_size, plan.out_channels))
    y = raw.Conv2DBackpropInput(
        input_sizes=sizes, filter=raw.Transpose(x=weight, perm=perm((2, 3, 1, 0))), out_backprop=x,
        strides=[1, *lifted.stride, 1], padding="EXPLICIT",
        explicit_paddings=[0, 0, *(p for pair in lifted.padding for p in pair), 0, 0], data_format="NHWC")
    y = _caller_layout(tf, _add_bias(tf, y, bias, False), lifted)
    return raw.Squeeze(input=y, axis=[axis]) if plan.rank == 1 else y


def _channels_last(tf: Any, x: Any, plan: ConvPlan) -> Any:
    """A channels-first ``x`` transposed to channels last (TF's CPU kernels' layout)."""
    perm = _constants(tf)
    return x if plan.channels_last else tf.raw_ops.Transpose(x=x, perm=perm((0, *range(2, plan.rank + 2), 1)))


def _caller_layout(tf: Any, y: Any, plan: ConvPlan) -> Any:
    """A channels-last ``y`` back in the caller's layout."""
    perm = _constants(tf)
    return y if plan.channels_last else tf.raw_ops.Transpose(x=y, perm=perm((0, plan.rank + 1, *range(1, plan.rank + 1))))


def _conv2d(tf: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
    # TensorFlow's CPU kernels want NHWC and HWIO filters. Measured on TF 2.21: grouped
    # and dilated Conv2D run forward on the CPU, eagerly and in tf.function, but neither
    # has a gradient there: see _convolve. Depthwise layers use TF's depthwise kernel,
    # which has a CPU gradient but no CPU dilation: its filter is dilated by zero insertion.
    # Raw ops with constant permutations: the tf.nn/tf.transpose wrappers and tensor
    # slicing cost 50-200 µs each in eager mode, more than a small convolution.
    raw = tf.raw_ops
    perm = _constants(tf)
    x = _channels_last(tf, x, plan)
    if plan.native_same:
        pads = {"padding": "SAME"}  # TensorFlow's rule is xpconv's; the sizes are known at run time only
    else:
        (top, bottom), (left, right) = plan.padding
        pads = {"padding": "VALID", "explicit_paddings": []}
        if any((top, bottom, left, right)):
            pads = {"padding": "EXPLICIT", "explicit_paddings": [0, 0, top, bottom, left, right, 0, 0]}
    strides = [1, plan.stride[0], plan.stride[1], 1]
    grouped = plan.groups > 1
    if plan.is_depthwise and plan.stride[0] == plan.stride[1]:
        kh, kw = plan.kernel
        per_channel = raw.Reshape(tensor=weight, shape=perm((plan.in_channels, plan.depth_multiplier, kh, kw)))
        filters = raw.Transpose(x=per_channel, perm=perm((2, 3, 0, 1)))
        filters = _dilate(tf, filters, plan.dilation)
        if pads["padding"] == "EXPLICIT":
            # With oneDNN, a depthwise convolution with EXPLICIT padding followed by any bias add
            # (ours or the caller's) aborts the process in Grappler's shape inference (TF 2.21):
            # "Check failed: ... Invalid index from the dimension". Same padding is TF's SAME;
            # other padding is applied first.
            if plan.same:
                pads = {"padding": "SAME"}
            else:
                x = raw.Pad(input=x, paddings=perm(((0, 0), (top, bottom), (left, right), (0, 0))))
                pads = {"padding": "VALID"}
        y = raw.DepthwiseConv2dNative(input=x, filter=filters, strides=strides, data_format="NHWC", **pads)
        grouped = False  # a depthwise kernel, which every fused kernel takes
    else:
        filters = raw.Transpose(x=weight, perm=perm((2, 3, 1, 0)))
        y = _convolve(tf, x, filters, strides, pads, plan.groups, plan.dilation)
    return _caller_layout(tf, _add_bias(tf, y, bias, grouped), plan)


def _add_bias(tf: Any, y: Any, bias: Any, grouped: bool) -> Any:
    if bias is None:
        return y
    bias = tf.convert_to_tensor(bias)
    if grouped:
        # Grappler's remapper fuses Conv2D + BiasAdd into _FusedConv2D, which refuses grouped
        # convolutions (on CPUs where oneDNN is off). An AddV2 is not fused there, and where
        # oneDNN fuses it as a bias add, its fused kernel takes groups (tested both ways).
        return tf.raw_ops.AddV2(x=y, y=bias)
    return tf.raw_ops.BiasAdd(value=y, bias=bias, data_format="NHWC")  # "NHWC": channels last, any rank


def _conv3d(tf: Any, x: Any, weight: Any, bias: Any, plan: ConvPlan) -> Any:
    """``Conv3D`` in NDHWC. TF's CPU Conv3D has no groups and no dilation along the depth axis:
    groups are one Conv3D each, and dilation is zero insertion into the filter (differentiable)."""
    raw = tf.raw_ops
    perm = _constants(tf)
    x = _channels_last(tf, x, plan)
    if plan.native_same:
        padding = "SAME"
    else:
        padding = "VALID"
        if any(p for pair in plan.padding for p in pair):
            x = raw.Pad(input=x, paddings=perm(((0, 0), *plan.padding, (0, 0))))
    filters = _dilate(tf, raw.Transpose(x=weight, perm=perm((2, 3, 4, 1, 0))), plan.dilation)
    strides = [1, *plan.stride, 1]

    def conv(x: Any, filters: Any) -> Any:
        return raw.Conv3D(input=x, filter=filters, strides=strides, padding=padding, data_format="NDHWC")

    if plan.groups == 1:
        y = conv(x, filters)
    else:
        pairs = zip(tf.split(x, plan.groups, axis=4), tf.split(filters, plan.groups, axis=4))
        y = tf.concat([conv(a, f) for a, f in pairs], axis=4)
    return _caller_layout(tf, _add_bias(tf, y, bias, plan.groups > 1), plan)


# Eager constants for permutations and shapes, by (values, device scope). Made only when
# executing eagerly: inside a tf.function or a tf.Graph the values go in as Python lists and
# become constants of that graph, so nothing is ever captured from another graph or context.
_EAGER_CONSTANTS: LRUCache[Any] = LRUCache(256)


def _constants(tf: Any) -> Any:
    """A function from a (nested) tuple of ints to an int32 tensor usable in the current context."""
    if not tf.executing_eagerly():
        return list
    scope = _device_scope()

    def constant(values: tuple[int, ...]) -> Any:
        key = (values, scope)
        tensor = _EAGER_CONSTANTS.get(key)
        if tensor is None:
            tensor = tf.constant(values, dtype=tf.int32)
            _EAGER_CONSTANTS.put(key, tensor)
        return tensor

    return constant


def _device_scope() -> str:
    try:
        from tensorflow.python.eager import context
    except ImportError:  # private module moved: no device scope is known
        return ""
    return context.context().device_name or ""


def keep_autograph_out() -> None:
    """Tell AutoGraph to run xpconv's code as written inside ``tf.function`` (once per process).

    xpconv never branches on a tensor's value, so there is nothing to convert; converting
    would only cost tracing time and print warnings about code it cannot handle.
    """
    try:
        from tensorflow.python.autograph.core import config
    except ImportError:  # private module moved: AutoGraph converts, which is still correct
        return
    rule = config.DoNotConvert("xpconv")
    if not any(getattr(r, "_prefix", None) == "xpconv" for r in config.CONVERSION_RULES):
        config.CONVERSION_RULES = (rule, *config.CONVERSION_RULES)


def _could_record_gradient(tf: Any) -> bool:
    """Whether a gradient of this op may be asked for: inside a graph, or under a GradientTape."""
    if not tf.executing_eagerly():
        return True
    try:
        from tensorflow.python.eager import record
    except ImportError:  # private module moved: assume a gradient may be taken
        return True
    return bool(record.could_possibly_record())


def _dilate(tf: Any, filters: Any, dilation: tuple[int, ...]) -> Any:
    """A spatial-first filter (HWIO, DHWIO) with ``d - 1`` zeros between taps along each spatial
    axis: differentiable everywhere."""
    for axis, d in enumerate(dilation):
        if d > 1:
            k = filters.shape[axis]
            spread = tf.stack([filters] + [tf.zeros_like(filters)] * (d - 1), axis=axis + 1)
            shape = list(filters.shape)
            shape[axis] = k * d
            filters = tf.reshape(spread, shape)[(slice(None),) * axis + (slice(0, (k - 1) * d + 1),)]
    return filters


def _convolve(tf: Any, x: Any, filters: Any, strides: list, pads: dict, groups: int, dilation: tuple[int, int]) -> Any:
    """``Conv2D`` with groups and dilation natively in the forward pass.

    TF's CPU has no gradient for grouped or dilated ``Conv2D`` ("Gradients for grouped
    convolutions are not supported on CPU"; "... do not yet support dilation rates larger than
    1"). Where a gradient may be recorded, the forward pass stays native (as fast as
    ``tf.nn.conv2d(dilations=d)``) and the gradient comes from a formulation TF differentiates:
    the filter dilated by zero insertion, one convolution per group.
    """
    dh, dw = dilation

    def conv(x: Any, filters: Any, rates: list) -> Any:
        return tf.raw_ops.Conv2D(input=x, filter=filters, strides=strides, dilations=rates, data_format="NHWC", **pads)

    if (groups == 1 and dilation == (1, 1)) or not _could_record_gradient(tf):
        return conv(x, filters, [1, dh, dw, 1])

    def differentiable(x: Any, filters: Any) -> Any:
        dilated = _dilate(tf, filters, dilation)
        if groups == 1:
            return conv(x, dilated, [1, 1, 1, 1])
        pairs = zip(tf.split(x, groups, axis=3), tf.split(dilated, groups, axis=3))
        return tf.concat([conv(a, f, [1, 1, 1, 1]) for a, f in pairs], axis=3)

    @tf.custom_gradient
    def native(x: Any, filters: Any) -> Any:
        def grad(dy: Any) -> Any:
            with tf.GradientTape() as tape:
                tape.watch([x, filters])
                y = differentiable(x, filters)
            return tape.gradient(y, [x, filters], output_gradients=dy)

        return conv(x, filters, [1, dh, dw, 1]), grad

    return native(x, filters)
