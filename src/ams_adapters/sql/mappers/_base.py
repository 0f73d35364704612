"""What every mapper shares: the row type they read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Row = Mapping[Any, Any]
