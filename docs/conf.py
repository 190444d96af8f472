"""Sphinx configuration of xpconv's documentation: MyST pages, numpydoc docstrings, pydata theme.

The API reference, the capability table, the command-line help, the measured tables and the
gallery's figures are generated at build time from xpconv itself (``_ext/xpconv_docs``), which
imports no array framework: the build needs NumPy, matplotlib and the packages of
``backends/docs.txt`` only (``nox -s docs``). The pages' own code runs in ``tests/docs``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import xpconv

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

project = "xpconv"
author = "the xpconv authors"
copyright = "the xpconv authors"
release = version = xpconv.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "xpconv_docs",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_generated", "gallery/*.py"]
nitpicky = True
#: Internal modules that public docstrings point to (described in architecture.md, not in the API).
nitpick_ignore_regex = [(r"py:(mod|func|class|meth|attr|data)", r"xpconv\.(cache|dispatch|kernels|testing|backends\.lists)(\..*)?")]

myst_enable_extensions = ["colon_fence", "substitution"]
myst_heading_anchors = 3

autodoc_typehints = "none"  # the numpydoc sections carry the types
#: The layer modules import their framework; the site is built with NumPy alone.
autodoc_mock_imports = ["torch", "keras"]
autodoc_member_order = "bysource"
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = f"xpconv {release}"
html_static_path = ["_static"]
html_css_files = ["xpconv.css"]
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
    # pages of wide measured tables give the page's width to them
    "secondary_sidebar_items": {"**": ["page-toc"], "guide/speed": [], "guide/fast-algorithms": []},
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
#: Pages without sub-pages have no section navigation: no left sidebar.
html_sidebars = {page: [] for page in ("index", "getting-started", "api", "capabilities", "gallery", "changelog")}
html_show_sourcelink = False
