"""The processes: the ``ams`` command, the ASGI factory, the worker supervisor and the demo.

These are the composition roots: only this package of ``ams_http`` may import
``ams_adapters`` (import-linter contract ``http-composes-only-in-serve``).
"""
