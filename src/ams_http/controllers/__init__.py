"""Route handlers, grouped by area; each calls one core use case in a worker thread."""
