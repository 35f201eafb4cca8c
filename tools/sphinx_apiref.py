"""Sphinx extension for book/api.md: document every module of a package, found at build time.

Usage in a MyST page::

    ```{eval-rst}
    .. api-modules:: ebjepa_mini
    ```

expands to an overview table (autosummary, no stub files) and, for the package and each of its
public submodules (``pkgutil.walk_packages``; names with a leading underscore, such as
``__main__``, are skipped), a section with ``.. automodule::``. New modules therefore appear in
the API reference without editing the page, and a module that fails to import fails the
strict (-W) build. Loaded through ``sphinx.local_extensions`` in _config.yml.
"""
from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles


def public_modules(package: str) -> list[str]:
    """The package and all its submodules without a private (underscore) part, sorted."""
    pkg = importlib.import_module(package)
    names = [m.name for m in pkgutil.walk_packages(pkg.__path__, prefix=f"{package}.")
             if not any(part.startswith("_") for part in m.name.split("."))]
    return [package, *sorted(names)]


class ApiModules(SphinxDirective):
    required_arguments = 1

    def run(self):
        modules = public_modules(self.arguments[0])
        for name in modules:  # rebuild the page when a module changes
            origin = importlib.util.find_spec(name).origin
            if origin:
                self.env.note_dependency(origin)
        lines = [".. autosummary::", ""] + [f"   {name}" for name in modules] + [""]
        for name in modules:
            lines += [name, "-" * len(name), "", f".. automodule:: {name}", ""]
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(lines, source="<api-modules>"), container)
        return container.children


def setup(app):
    app.add_directive("api-modules", ApiModules)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
