"""Runners for compare_peers.py: one module per method, each with ``train`` and ``load``."""
