"""xpconv's own kernels, each for batched arrays of one dtype and a forward plan.

- :mod:`.direct`: the direct convolution written once against the Array API (blocked im2col,
  depthwise by broadcast multiply-add), on every backend.
- :mod:`.numpy_blocked`: NumPy's own blocked kernel for 1 and 2 spatial axes.
- :mod:`.padding`: padding modes, written once, padded block by block.
- :mod:`.transpose`: a transposed convolution as the forward convolution it equals.
- :mod:`.reach`: which taps and inputs an output reads; the kernel of outputs that read nothing.

The dispatcher (:mod:`xpconv.dispatch`) chooses among them and the frameworks' natives.
"""
