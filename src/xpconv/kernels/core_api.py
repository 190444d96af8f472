"""The Array API functions xpconv's own kernels may use: the one written-down list.

The kernels, the dispatcher, the chapter's functions and the backends' base call nothing else on
a namespace (a test reads their source to hold them to it), and xpconv's TensorFlow and MXNet
namespaces provide exactly these.
"""

CORE_FUNCTIONS: tuple[str, ...] = (
    "asarray",
    "astype",
    "broadcast_to",
    "clip",
    "concat",
    "exp",
    "flip",
    "floor",
    "isdtype",
    "matmul",
    "permute_dims",
    "reshape",
    "result_type",
    "round",
    "stack",
    "take",
    "zeros",
    "zeros_like",
)

#: Dtype objects the core names.
CORE_DTYPES: tuple[str, ...] = ("float32", "float64", "int32", "int64")
