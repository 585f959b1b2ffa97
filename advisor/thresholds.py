"""--threshold ID.NAME=VALUE (and a targets file's `thresholds` table): overrides of the
check catalog's parameters, read by the single probe and by the fleet alike."""

from __future__ import annotations

import math
import re
from typing import Any

from .catalog import load_checks
from .errors import UsageError


def parse_thresholds(pairs: list[str]) -> dict[str, Any]:
    """ "PG101.warn_below_percent=30" -> {"PG101.warn_below_percent": 30}; UsageError for
    a name the catalog does not declare or a value that is not a finite number."""
    catalog = load_checks()
    out = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        check_id, dot, name = key.partition(".")
        if not eq or not dot or check_id not in catalog or name not in catalog[check_id]["params"]:
            # echo only what has the form ID.NAME: anything else may be a pasted URL
            shown = f" {key!r}" if re.fullmatch(r"[A-Za-z0-9_.]{1,60}", key) else ""
            raise UsageError(
                f"unknown threshold{shown}: see `advisor checks ID` for a check's "
                "thresholds (--threshold ID.NAME=VALUE)"
            )
        try:
            number = float(value) if "." in value else int(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise UsageError(f"threshold {key} needs a number")
        out[key] = number
    return out
