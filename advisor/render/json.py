"""JSON schema v1 (advisor/schema/report-v1.json)."""

import json


def render_json(report) -> str:
    return json.dumps(report.to_dict(), indent=2, sort_keys=False) + "\n"
