"""Sphinx 7.4 adds an inline script registered after the builder starts twice (once with
filename None, once with ""), so sphinx-thebe's ``const THEBE_JS_URL`` is declared twice
and every page logs an error. Fixed upstream in sphinx-doc/sphinx#13402 (Sphinx 8.2);
Jupyter Book 1 keeps us on Sphinx 7, so register such scripts with "" once."""

from sphinx.builders.html import StandaloneHTMLBuilder

_add_js_file = StandaloneHTMLBuilder.add_js_file


def _add_js_file_once(self, filename, priority=500, loading_method=None, **kwargs):
    return _add_js_file(self, filename or "", priority=priority, loading_method=loading_method, **kwargs)


def setup(app):
    StandaloneHTMLBuilder.add_js_file = _add_js_file_once
    return {"parallel_read_safe": True, "parallel_write_safe": True}
