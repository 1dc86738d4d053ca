"""Sphinx configuration: guide pages made of README.md's sections and docs/*.md, an API reference from the docstrings.

Build with ``./dev docs`` (into docs/_build/html); ``./dev test`` builds with warnings as errors.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sphinx.pycode import ModuleAnalyzer
from sphinx.util import logging

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))  # the source tree's package, even where it is not installed

import simple_websocket  # noqa: E402  # after the path above
import simple_websocket.typing  # noqa: E402

if TYPE_CHECKING:
    from sphinx.application import Sphinx

project = "simple_websocket"
author = "the simple_websocket authors"
copyright = "the simple_websocket authors"
release = version = simple_websocket.__version__

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build"]

# The guide includes README.md's sections, whose headings start at ## (README's # is its title):
# under a page's own title that skips a level, on purpose.
suppress_warnings = ["myst.header"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_class_signature = "separated"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True}  # api/exceptions.md shows the bases: the tree is the point there
# Signatures name the public aliases (annotations are strings here: from __future__ import annotations).
autodoc_type_aliases = {
    **{name: f"simple_websocket.typing.{name}" for name in simple_websocket.typing.__all__},
    **{name: f"simple_websocket.{name}" for name in ("InboundEvent", "OutboundEvent", "OriginsLike")},
}

html_theme = "furo"
html_title = f"simple_websocket {release}"

# -- Every name in a public module's __all__ is documented exactly once -------------------------
#
# API page -> the module it documents, and the public modules whose pages describe some of the names
# it re-exports (the package page leaves the exceptions and type aliases to their own modules' pages).
API_PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "api/simple_websocket": ("simple_websocket", ("simple_websocket.exceptions", "simple_websocket.typing")),
    "api/exceptions": ("simple_websocket.exceptions", ()),
    "api/typing": ("simple_websocket.typing", ()),
    "api/testing": ("simple_websocket.testing", ()),
    "api/codecs": ("simple_websocket.codecs", ("simple_websocket.codecs.json", "simple_websocket.codecs.msgpack")),
    "api/codecs.json": ("simple_websocket.codecs.json", ()),
    "api/codecs.msgpack": ("simple_websocket.codecs.msgpack", ()),
    "api/fanout": ("simple_websocket.fanout", ()),
}
_MISSING = object()
logger = logging.getLogger(__name__)


def _documented_elsewhere(docname: str, name: str) -> bool:
    module_name, elsewhere = API_PAGES[docname]
    obj = getattr(importlib.import_module(module_name), name, _MISSING)
    for other_name in elsewhere:
        other = importlib.import_module(other_name)
        if name in other.__all__ and getattr(other, name) is obj:
            return True
    return False


def _home_doc(module_name: str, name: str) -> list[str] | None:
    """The docstring under ``name = ...`` in the module that defines a re-exported constant or type alias.

    autodoc reads such docstrings from the documented module's own source, where a re-export has none.
    """
    obj = getattr(importlib.import_module(module_name), name, _MISSING)
    for home_name, home in sorted(sys.modules.items()):
        if home_name.startswith("simple_websocket.") and home_name != module_name and vars(home).get(name) is obj:
            doc = ModuleAnalyzer.for_module(home_name).find_attr_docs().get(("", name))
            if doc:
                return list(doc)
    return None


def _undiscovered(module_name: str, docname: str) -> list[str]:
    """Directives for the names in __all__ that ``automodule`` skips: loaded lazily, or re-exported data."""
    module = importlib.import_module(module_name)
    attribute_docs = ModuleAnalyzer.for_module(module_name).find_attr_docs()
    directives = []
    for name in module.__all__:
        if _documented_elsewhere(docname, name):
            continue
        obj = getattr(module, name)
        if name not in vars(module):  # provided by the module's __getattr__ on first use
            kind = "autoclass" if isinstance(obj, type) else "autofunction" if inspect.isroutine(obj) else "autodata"
        elif isinstance(obj, type) or inspect.isroutine(obj) or ("", name) in attribute_docs:
            continue  # automodule documents it
        else:
            kind = "autodata"
        directives.append(f".. {kind}:: {module_name}.{name}")
    return directives


def _add_undiscovered(app: Sphinx, docname: str, source: list[str]) -> None:
    if docname in API_PAGES:
        directives = _undiscovered(API_PAGES[docname][0], docname)
        if directives:
            source[0] += "\n```{eval-rst}\n" + "\n\n".join(directives) + "\n```\n"


def _re_exported_doc(app: Sphinx, what: str, name: str, obj: object, options: object, lines: list[str]) -> None:
    module_name, _, attribute = name.rpartition(".")
    if what == "data" and ("", attribute) not in ModuleAnalyzer.for_module(module_name).find_attr_docs():
        doc = _home_doc(module_name, attribute)
        if doc is not None:
            lines[:] = doc


def _skip_documented_elsewhere(
    app: Sphinx, what: str, name: str, obj: object, skip: bool, options: object
) -> bool | None:
    docname = app.env.docname
    if what == "module" and docname in API_PAGES and _documented_elsewhere(docname, name):
        return True
    return None


def _check_every_name(app: Sphinx, env: object) -> None:
    documented = set(app.env.domains.python_domain.objects)
    for docname, (module_name, elsewhere) in API_PAGES.items():
        for name in importlib.import_module(module_name).__all__:
            if not any(f"{module}.{name}" in documented for module in (module_name, *elsewhere)):
                logger.warning("%s.%s is in __all__ but not documented (%s.md)", module_name, name, docname)


def setup(app: Sphinx) -> None:
    app.connect("source-read", _add_undiscovered)
    app.connect("autodoc-process-docstring", _re_exported_doc)
    app.connect("autodoc-skip-member", _skip_documented_elsewhere)
    app.connect("env-check-consistency", _check_every_name)
