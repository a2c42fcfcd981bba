"""The book's machinery: executing notebooks, building the HTML, running and checking them.

``build`` (execute a notebook with papermill, build the HTML with Jupyter Book, where
chapter figures go), ``runner`` (``overparam run`` / ``status``: runs into a copy of the
book), ``cli`` (the ``overparam`` command; also ``python -m overparam_lib.book``),
``launch`` (the repository address, the Colab/Binder install cell), ``repro`` (the
reproducibility stamp that ends every notebook), ``robustness`` (``overparam
robustness``: a notebook at many seeds and code paths), ``nbval_tolerance`` (the pytest
plugin that compares measured values within their tolerance).

Imports: the machinery may import everything in the library; nothing outside this
subpackage imports it (``tests/test_layout.py`` checks). Notebooks import it for
``save_book_figure`` and the stamp.
"""
