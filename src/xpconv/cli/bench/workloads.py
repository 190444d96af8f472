"""The convolutions ``xpconv bench`` times, at full and at ``--quick`` size.

Kept apart from the timing code so that the command line can list and check workload names
without importing any framework.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...cost import conv_cost


@dataclass(frozen=True)
class Workload:
    """One timed problem: shapes of x (channels first, batched or not) and weight, and the options.

    The rank (1, 2 or 3 spatial axes) comes from the weight; ``transpose`` times
    ``conv_transpose`` with a ``(C_in, C_out/groups, *kernel)`` weight."""

    name: str
    x: tuple[int, ...]
    w: tuple[int, ...]
    stride: int = 1
    padding: int = 0
    groups: int = 1
    dilation: int = 1
    transpose: bool = False

    @property
    def rank(self) -> int:
        return len(self.w) - 2

    @property
    def batched(self) -> bool:
        return len(self.x) == self.rank + 2

    @property
    def flops(self) -> int:
        return conv_cost(self.x, self.w, stride=self.stride, padding=self.padding, groups=self.groups,
                         dilation=self.dilation, transpose=self.transpose).flops

    def describe(self) -> str:
        """One line: shapes, options and work, e.g. ``x 8x64x56x56, w 64x64x3x3, padding 1; 1.85 GFLOP``."""
        options = [f"{k} {v}" for k, v, default in
                   (("stride", self.stride, 1), ("padding", self.padding, 0), ("groups", self.groups, 1),
                    ("dilation", self.dilation, 1), ("transposed", self.transpose, False)) if v != default]
        shapes = f"x {'x'.join(map(str, self.x))}, w {'x'.join(map(str, self.w))}"
        return ", ".join([shapes, *options]) + f"; {_flops(self.flops)}"


def _flops(n: int) -> str:
    for scale, unit in ((1e9, "GFLOP"), (1e6, "MFLOP"), (1e3, "kFLOP")):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} FLOP"


#: The chapter's own example, unbatched: what a validated call adds to the framework's own call is measured on it.
OVERHEAD_WORKLOAD = "chapter 2x3x3"
WORKLOADS = (
    Workload("chapter 2x3x3", (2, 3, 3), (3, 2, 2, 2)),
    Workload("resnet 3x3", (8, 64, 56, 56), (64, 64, 3, 3), padding=1),
    Workload("bottleneck 1x1", (8, 256, 56, 56), (64, 256, 1, 1)),
    Workload("chapter 5x5", (1, 128, 256, 256), (128, 128, 5, 5), padding=2),
    Workload("stem 7x7/2", (8, 3, 224, 224), (64, 3, 7, 7), stride=2, padding=3),
    Workload("depthwise 3x3", (8, 256, 28, 28), (256, 1, 3, 3), padding=1, groups=256),
    Workload("resnext 3x3 g32", (8, 128, 28, 28), (128, 4, 3, 3), padding=1, groups=32),
    Workload("dilated 3x3 d2", (8, 64, 56, 56), (64, 64, 3, 3), padding=2, dilation=2),
    Workload("dilated 3x3 d6", (8, 64, 56, 56), (64, 64, 3, 3), padding=6, dilation=6),
    Workload("dilated 3x3 d12", (8, 64, 56, 56), (64, 64, 3, 3), padding=12, dilation=12),
    Workload("audio 1-D k3", (8, 128, 4000), (128, 128, 3), padding=1),
    Workload("video 3-D 3x3x3", (2, 64, 16, 28, 28), (64, 64, 3, 3, 3), padding=1),
    Workload("decoder 4x4/2 transposed", (8, 64, 28, 28), (64, 32, 4, 4), stride=2, padding=1, transpose=True),
)
QUICK = (
    Workload("chapter 2x3x3", (2, 3, 3), (3, 2, 2, 2)),
    Workload("resnet 3x3", (2, 16, 28, 28), (16, 16, 3, 3), padding=1),
    Workload("bottleneck 1x1", (2, 64, 28, 28), (16, 64, 1, 1)),
    Workload("chapter 5x5", (1, 32, 64, 64), (32, 32, 5, 5), padding=2),
    Workload("stem 7x7/2", (2, 3, 64, 64), (16, 3, 7, 7), stride=2, padding=3),
    Workload("depthwise 3x3", (2, 64, 14, 14), (64, 1, 3, 3), padding=1, groups=64),
    Workload("resnext 3x3 g32", (2, 64, 14, 14), (64, 2, 3, 3), padding=1, groups=32),
    Workload("dilated 3x3 d2", (2, 16, 28, 28), (16, 16, 3, 3), padding=2, dilation=2),
    Workload("dilated 3x3 d6", (2, 16, 28, 28), (16, 16, 3, 3), padding=6, dilation=6),
    Workload("dilated 3x3 d12", (2, 16, 28, 28), (16, 16, 3, 3), padding=12, dilation=12),
    Workload("audio 1-D k3", (2, 32, 1000), (32, 32, 3), padding=1),
    Workload("video 3-D 3x3x3", (1, 8, 8, 14, 14), (8, 8, 3, 3, 3), padding=1),
    Workload("decoder 4x4/2 transposed", (2, 16, 14, 14), (16, 8, 4, 4), stride=2, padding=1, transpose=True),
)
@dataclass(frozen=True)
class LargeImage:
    """The scale-out workload: x ``(1, C_in, H, W)`` float32 in square chunks, a ``k×k`` kernel."""

    channels_in: int
    channels_out: int
    size: int
    chunk: int
    kernel: int

    @property
    def x(self) -> tuple[int, int, int, int]:
        return (1, self.channels_in, self.size, self.size)

    @property
    def w(self) -> tuple[int, int, int, int]:
        return (self.channels_out, self.channels_in, self.kernel, self.kernel)

    def describe(self) -> str:
        return (f"x {'x'.join(map(str, self.x))} float32 in {self.chunk}x{self.chunk} chunks, "
                f"w {'x'.join(map(str, self.w))}, padding 'same'; single-channel: "
                f"{self.size}x{self.size} with a {self.kernel}x{self.kernel} kernel")


LARGE_FULL = LargeImage(channels_in=8, channels_out=8, size=4096, chunk=1024, kernel=5)
LARGE_QUICK = LargeImage(channels_in=4, channels_out=4, size=512, chunk=256, kernel=5)


#: The scale-out workload (:mod:`.bench_dask`): Dask, in-memory NumPy and dask-image on a large
#: image; run only when named, since it needs Dask.
LARGE_IMAGE = "large image"
#: The names ``--workload`` accepts, exactly as written (the same at both sizes).
NAMES = (*(wl.name for wl in WORKLOADS), LARGE_IMAGE)
assert NAMES[:-1] == tuple(wl.name for wl in QUICK)


def select(quick: bool, names: list[str] | None) -> tuple[Workload, ...]:
    """The workloads of one run, in their fixed order; ``names`` (exact, already checked) narrows them."""
    workloads = QUICK if quick else WORKLOADS
    return tuple(wl for wl in workloads if not names or wl.name in names)
