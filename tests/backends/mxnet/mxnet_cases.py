"""The MXNet tests' module fixture and their 1-D/3-D, padding-mode and transposed cases."""

from __future__ import annotations

import numpy as np

import xpconv
from xpconv.testing import conv_oracle, conv_transpose_oracle

# -- 1-D and 3-D, padding modes, transposed convolutions ---------------------------------------------
# (x shape, weight shape, options, transposed); the weight's rank sets the number of spatial axes.
ND_CASES = {
    "1-D reflect asymmetric stride 2": ((2, 4, 11), (6, 2, 3), {"padding": ((2, 1),), "stride": 2, "groups": 2,
                                                                "padding_mode": "reflect"}, False),
    "1-D unbatched circular dilation 2": ((3, 9), (4, 3, 3), {"padding": 4, "dilation": 2,
                                                              "padding_mode": "circular"}, False),
    "2-D replicate": ((2, 3, 7, 6), (4, 3, 3, 2), {"padding": ((3, 0), (1, 2)), "padding_mode": "replicate"}, False),
    "2-D depthwise circular": ((1, 4, 6, 6), (8, 1, 3, 3), {"padding": 1, "groups": 4, "padding_mode": "circular"},
                               False),
    "3-D same stride 2": ((2, 2, 7, 5, 6), (3, 2, 3, 2, 3), {"padding": "same", "stride": 2}, False),
    "3-D groups dilation reflect": ((1, 4, 6, 7, 5), (4, 2, 2, 3, 2), {"groups": 2, "dilation": (1, 2, 1),
                                                                        "padding": (1, 2, 0), "padding_mode": "reflect"},
                                    False),
    "3-D unbatched": ((2, 4, 5, 4), (3, 2, 2, 3, 3), {"padding": 1}, False),
    # transposed: npx.deconvolution for 1-D/2-D without dilation, the forward twin otherwise
    "T 1-D stride 2 output_padding 1": ((2, 4, 6), (4, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}, True),
    "T 1-D same": ((2, 3, 7), (3, 2, 4), {"stride": 2, "padding": "same"}, True),
    "T 2-D asymmetric crop groups": ((2, 4, 4, 5), (4, 3, 3, 3), {"stride": (2, 1), "groups": 2,
                                                                  "padding": ((0, 2), (1, 0))}, True),
    "T 2-D unbatched output_padding": ((3, 4, 4), (3, 2, 3, 2), {"stride": 3, "padding": 1, "output_padding": (2, 1)},
                                       True),
    "T 2-D dilation 2": ((2, 3, 4, 5), (3, 2, 3, 3), {"stride": 2, "dilation": 2, "padding": 1,
                                                      "output_padding": 1}, True),
    "T 3-D stride 2": ((1, 3, 3, 4, 3), (3, 2, 3, 3, 3), {"stride": 2, "padding": 1, "output_padding": (1, 0, 1)},
                       True),
    "T 3-D valid depthwise": ((2, 3, 3, 3, 4), (3, 2, 2, 2, 2), {"groups": 3, "stride": 2, "padding": "valid"}, True),
}


def nd_case(name, seed=0):
    x_shape, w_shape, options, transposed = ND_CASES[name]
    rng = np.random.default_rng(seed)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    c_out = w_shape[1] * options.get("groups", 1) if transposed else w_shape[0]
    return x, w, rng.standard_normal(c_out), options, transposed


def nd_plan(x, w, options, transposed):
    return xpconv.plan(x.shape, w.shape, transposed=transposed, **options)


def nd_oracle(x, w, b, options, transposed, absolute=False):
    plan = nd_plan(x, w, options, transposed)
    batched = x if plan.batched else x[None]
    common = {"stride": plan.stride, "padding": plan.padding, "dilation": plan.dilation, "groups": plan.groups,
              "absolute": absolute}
    if transposed:
        y = conv_transpose_oracle(batched, w, b, output_padding=plan.output_padding, **common)
    else:
        y = conv_oracle(batched, w, b, padding_mode=plan.padding_mode, **common)
    return y if plan.batched else y[0]


def to_channels_last(a, rank):
    return np.moveaxis(a, -(rank + 1), -1)






METHODS = ["portable", "auto", "native"]
