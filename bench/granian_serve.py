"""AMS served by granian instead of uvicorn, for ADR 0020's comparison.

`python -m bench.granian_serve serve --host H --port P --workers N` runs
``granian --interface asgi --factory ams_http.serve.asgi:app_from_env`` with N worker
processes on uvloop and granian's own worker management, so the HTTP benchmark can drive it
exactly as it drives ``ams serve`` (``bench.http.serving(..., module="bench.granian_serve")``).
granian is not a dependency of AMS: ``pip install granian`` first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys


def main(argv: list[str] | None = None) -> int:  # noqa: RET503 - execv never returns
    parser = argparse.ArgumentParser(prog="python -m bench.granian_serve")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args(argv)
    granian = shutil.which("granian", path=os.path.dirname(sys.executable))
    if granian is None:
        print("granian is not installed here: pip install granian", file=sys.stderr)
        return 1
    command = [granian, "--interface", "asgi", "--factory", "--loop", "uvloop"]
    command += ["--host", args.host, "--port", str(args.port), "--workers", str(args.workers)]
    command += ["--log-level", "warning", "--no-ws", "ams_http.serve.asgi:app_from_env"]
    os.execv(granian, command)  # noqa: S606 - our own command line; never returns


if __name__ == "__main__":
    raise SystemExit(main())
