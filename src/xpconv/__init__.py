"""xpconv: multi-channel convolution (1-D, 2-D, 3-D, transposed), written once against the Array API standard.

NumPy, PyTorch, JAX, TensorFlow, MXNet, Dask and array_api_strict arrays (and any array that
array-api-compat recognizes) go in; the same library's array comes out, on the same device.
Importing xpconv imports no array framework.
"""

from ._plan import ConvOptions, ConvPlan, Kind
from .api import (
    conv,
    conv1d,
    conv2d,
    conv3d,
    conv_transpose,
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
    plan,
)
from .backends import available_backends, register_backend, registered_backends
from .causal import causal_conv1d
from .chapter import corr2d, corr2d_multi_in, corr2d_multi_in_out, corr2d_multi_in_out_1x1
from .cost import ConvCost, conv2d_cost, conv_cost, param_count
from .deform import deform_conv
from .explain import explain
from .quantized import conv_integer, qlinear_conv

__version__ = "0.1.0"

__all__ = [
    "ConvCost",
    "ConvOptions",
    "ConvPlan",
    "Kind",
    "available_backends",
    "causal_conv1d",
    "conv",
    "conv1d",
    "conv2d",
    "conv2d_cost",
    "conv3d",
    "conv_cost",
    "conv_integer",
    "conv_transpose",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "corr2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "deform_conv",
    "explain",
    "param_count",
    "plan",
    "qlinear_conv",
    "register_backend",
    "registered_backends",
]
