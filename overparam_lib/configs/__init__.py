"""Notebook configs: one module per chapter, the profile mechanism in one place.

``profiles`` turns a notebook's ``parameters`` cell into its validated config
(:func:`configure`, the ``ci`` and ``full`` profiles); each chapter's module holds one
frozen dataclass per notebook of that chapter (fields with their ``ci`` defaults,
``FULL``, ``validate``). ``double_descent`` is the first.

Imports: configs import the science (``overparam_lib.data``, ``device``, ``errors``),
never the book's machinery (``overparam_lib.book``), which imports them.
"""

from overparam_lib.configs.profiles import PROFILES, configure

__all__ = ["PROFILES", "configure"]
