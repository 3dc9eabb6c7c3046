"""Sixfold: an open platform for leading an organisation's social media."""

__version__ = "0.1.0"
