"""The chapter's example data (Dive into Deep Learning, 'Multiple Input and Multiple Output Channels')."""

import numpy as np

X = np.array(
    [[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0], [6.0, 7.0, 8.0]], [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]
)
K = np.array([[[0.0, 1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]])
K3 = np.stack([K, K + 1, K + 2])  # (3, 2, 2, 2): output channels K, K+1, K+2

# The numbers the chapter prints.
MULTI_IN = [[56, 72], [104, 120]]
MULTI_OUT = [[[56, 72], [104, 120]], [[76, 100], [148, 172]], [[96, 128], [192, 224]]]
# The single-channel example of the preceding section: X = arange(9).reshape(3, 3).
CORR2D = [[19, 25], [37, 43]]
