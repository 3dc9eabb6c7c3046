"""Connectors that ship with Sixfold; each registers in the `sixfold.connectors` entry points."""
