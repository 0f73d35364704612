"""The HTTP edge (Litestar). Arrives with the HTTP API issue."""
