"""The Array API functions the portable core may use: the one written-down list.

``_portable.py``, ``_padding.py``, ``_transpose.py``, ``_conv.py``, ``_chapter.py`` and ``backends/_base.py`` call nothing else on a namespace (a test reads their
source to hold them to it), and xpconv's TensorFlow namespace provides exactly these.
"""

CORE_FUNCTIONS: tuple[str, ...] = (
    "asarray",
    "astype",
    "broadcast_to",
    "concat",
    "flip",
    "isdtype",
    "matmul",
    "permute_dims",
    "reshape",
    "result_type",
    "stack",
    "zeros",
    "zeros_like",
)

#: Dtype objects the core names.
CORE_DTYPES: tuple[str, ...] = ("float32", "float64")
