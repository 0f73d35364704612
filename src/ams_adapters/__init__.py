"""Adapters: implementations of the core ports.

Importing this package loads no third-party module.
"""
