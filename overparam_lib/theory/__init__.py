"""Closed forms the experiments are checked against: one module per chapter.

``double_descent``: the ridgeless and ridge risk of least squares (Hastie et al.) and
the ridgeless risk of random-features regression (Mei and Montanari).
``benign_overfitting``: effective ranks of a covariance (Bartlett et al.) and the
membership-inference advantage against min-norm regression (Tan et al.).
``wide_networks``: the infinite-width NNGP and NTK kernels of deep ReLU networks (Jacot et al.,
Arora et al.) and the variance of a trained wide network's output (Lee et al.). A chapter whose
notebooks compare with published formulas adds its own module here; one chapter may
use another's (the ridgeless risk returns in benign overfitting).

Imports: theory is science: it imports ``overparam_lib.errors``, NumPy and torch, never
the configs or the book's machinery.
"""
