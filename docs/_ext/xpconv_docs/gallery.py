"""The gallery's figures, drawn when the build starts by the scripts in ``docs/gallery/``.

Each script defines ``draw(path)``, which writes one PNG figure to ``path`` (with matplotlib, from
NumPy and xpconv alone); the figure of ``gallery/NAME.py`` is written to
``docs/_generated/gallery/NAME.png`` (not committed), where ``gallery.md`` shows it.
"""

from __future__ import annotations

import runpy
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

LOG = logging.getLogger(__name__)


def output(srcdir: Path) -> Path:
    return srcdir / "_generated" / "gallery"


def draw_all(app: Sphinx) -> None:
    import matplotlib

    matplotlib.use("Agg")
    srcdir = Path(app.srcdir)
    folder = output(srcdir)
    folder.mkdir(parents=True, exist_ok=True)
    for script in sorted((srcdir / "gallery").glob("*.py")):
        LOG.info("gallery: drawing %s", script.name)
        runpy.run_path(str(script))["draw"](folder / f"{script.stem}.png")
        import matplotlib.pyplot as plt

        plt.close("all")


def setup(app: Sphinx) -> None:
    app.connect("builder-inited", draw_all)
