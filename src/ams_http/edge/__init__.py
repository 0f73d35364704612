"""Edge infrastructure around the handlers: rate limits, idempotency, the edge store
(Redis or memory), security headers and the workbook export.

Only this package may import ``redis`` and ``openpyxl`` (import-linter contract
``edge-drivers-stay-in-edge``).
"""
