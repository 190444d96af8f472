"""Sphinx extension for xpconv's documentation: everything that can be read from the code is.

- ``xpconv-public-api``: the API reference of every name in ``xpconv.__all__`` (:mod:`.public_api`);
- ``xpconv-capabilities``: the backends' declarations as tables (:mod:`.capabilities`);
- ``xpconv-cli-help``: the command line's own help (:mod:`.cli_help`);
- ``xpconv-bench-ratios``, ``xpconv-calibration``: measured tables from the JSON files (:mod:`.measured`);
- the gallery's figures, drawn by ``docs/gallery/*.py`` when the build starts (:mod:`.gallery`);
- MyST substitutions of the cost model's constants (``{{ margin_pct }}``, ``{{ min_channels }}``).

Every directive emits reStructuredText: use it inside an ``{eval-rst}`` block of a MyST page.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

from . import capabilities, cli_help, gallery, measured, public_api


def _substitutions(app: Sphinx, config: Any) -> None:
    from xpconv.kernels import cost_model

    config.myst_substitutions = {
        **config.myst_substitutions,
        "margin": f"{cost_model.MARGIN:g}",
        "margin_pct": f"{round((1 - cost_model.MARGIN) * 100)}%",
        "min_channels": str(cost_model.MIN_CHANNELS),
    }


def setup(app: Sphinx) -> dict[str, Any]:
    public_api.setup(app)
    capabilities.setup(app)
    cli_help.setup(app)
    measured.setup(app)
    gallery.setup(app)
    app.connect("config-inited", _substitutions)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
