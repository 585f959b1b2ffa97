"""JUnit XML: one testcase per finding (fail/error -> failure/error, warn -> system-out note)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from .safe import plain

if TYPE_CHECKING:
    from ..report import Report


def render_junit(report: Report) -> str:
    d = report.to_dict()
    s = d["summary"]
    suite = ET.Element(
        "testsuite",
        {
            "name": f"pooling-advisor {d['kind']}: {plain(d['target']['url'])}",
            "tests": str(len(d["findings"])),
            "failures": str(s["fail"]),
            "errors": str(s["error"]),
            "skipped": str(s["skip"]),
            "timestamp": d["generated_at"],
        },
    )
    for f in d["findings"]:
        case = ET.SubElement(
            suite,
            "testcase",
            {
                "classname": f"advisor.{d['target']['engine']}",
                "name": plain(f"{f['id']} {f['title']}"),
            },
        )
        message = plain(f["message"], 1000)
        if f["status"] == "fail":
            node = ET.SubElement(case, "failure", {"message": message, "type": f["severity"]})
            node.text = f"{f['remediation']}\n{f['docs_url']}"
        elif f["status"] == "error":
            node = ET.SubElement(case, "error", {"message": message})
            node.text = f["docs_url"]
        elif f["status"] == "skip":
            ET.SubElement(case, "skipped", {"message": message})
        elif f["status"] == "warn":
            ET.SubElement(case, "system-out").text = f"WARNING: {message}\n{f['docs_url']}"
        else:
            ET.SubElement(case, "system-out").text = message
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )
