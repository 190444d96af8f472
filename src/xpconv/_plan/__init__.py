"""Options, validation, the output-size rules and the plan: everything decided before any array work.

Everything here works on plain Python values and shapes, never on arrays, so that the
convolutions, the chapter's functions and :func:`xpconv.conv_cost` share one set of rules and one
set of error messages, for 1 to 3 spatial axes.
"""

from .checks import Shapes, read_shapes
from .geometry import Requirement, explicit_padding, per_axis
from .kind import Kind
from .options import (
    DATA_FORMATS,
    EXPLICIT,
    LAYOUTS,
    PADDING_MODES,
    ConvOptions,
    PaddingArg,
    as_int,
    from_fields,
    to_pair,
)
from .plan import ConvPlan, make_plan
from .shapes import (
    SIZE_LIMIT,
    describe,
    extent,
    is_static,
    output_size,
    same_padding,
    transposed_extension,
    transposed_size,
)

__all__ = [
    "DATA_FORMATS",
    "EXPLICIT",
    "LAYOUTS",
    "PADDING_MODES",
    "SIZE_LIMIT",
    "ConvOptions",
    "ConvPlan",
    "Kind",
    "PaddingArg",
    "Requirement",
    "Shapes",
    "as_int",
    "describe",
    "explicit_padding",
    "extent",
    "from_fields",
    "is_static",
    "make_plan",
    "output_size",
    "per_axis",
    "read_shapes",
    "same_padding",
    "to_pair",
    "transposed_extension",
    "transposed_size",
]
