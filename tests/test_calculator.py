"""The capacity calculator's logic (advisor/calculator.py), which the browser tool runs:
PG207's arithmetic with PG101's thresholds from the check catalog, numbers written as the
page writes them."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from advisor import calculator
from advisor.calculator import INVALID, SIZES_LABEL, capacity
from advisor.catalog import load_checks
from tests.support.capacity import CAPACITY

PG101 = load_checks()["PG101"]["params"]


def run(
    max=None, reserved=None, inuse=None, instances=None, pool=None, pooler=False, dps=None, mcc=None
):
    out = capacity(max, reserved, inuse, instances, pool, pooler, dps, mcc)
    assert json.loads(json.dumps(out)) == out
    assert out["status"] in ("pass", "warn", "fail", "error")
    return out


def text(out: dict) -> str:
    """What the page shows: the verdict, the arithmetic, the sizes to use."""
    return "\n".join([out["verdict"], out.get("advice", ""), *out["lines"], out["sizes"]])


@pytest.mark.parametrize(
    "inputs,verdict,shown", CAPACITY, ids=[f"row{i}" for i in range(len(CAPACITY))]
)
def test_capacity_table(inputs, verdict, shown):
    out = run(**inputs)
    assert out["verdict"].startswith(verdict), out
    for s in shown:
        assert s in text(out), (s, out)


def test_status_follows_the_verdict():
    assert run(max=100, reserved=3, inuse=0, instances=20, pool=1)["status"] == "pass"
    assert run(max=100, reserved=3, inuse=0, instances=8, pool=10)["status"] == "warn"
    assert run(max=100, reserved=3, inuse=10, instances=80, pool=1)["status"] == "fail"
    assert (
        run(max=100, reserved=3, inuse=0, instances=50, pool=5)["status"] == "fail"
    )  # does not fit


def test_thresholds_are_pg101s():
    # 100 usable slots: a left-over of exactly warn_below_percent slots is the warning line.
    warn, fail = PG101["warn_below_percent"], PG101["fail_below_percent"]
    assert fail < warn and PG101["fail_below_slots"] < fail

    def status(left):
        return run(max=100, reserved=0, inuse=0, instances=100 - left, pool=1)["status"]

    assert status(warn) == "pass" and status(warn - 1) == "warn"
    assert status(fail) == "warn" and status(fail - 1) == "fail"
    # The suggested pooler size keeps that line free: ceil(usable * warn %) slots.
    out = run(max=103, reserved=3, inuse=0, instances=50, pool=5, pooler=True)
    keep = max(PG101["fail_below_slots"], math.ceil(100 * warn / 100))
    assert out["sizes"].endswith(
        f"default_pool_size \u2264 {100 - keep} (leaves {keep} slots free, PG101's warning line)"
    )


def test_no_free_slot():
    out = run(max=10, reserved=3, inuse=7, instances=1, pool=1, pooler=True, dps=1)
    assert (out["status"], out["verdict"]) == ("fail", "Does not fit.")
    assert out["lines"][-1] == "no slot is free for applications"
    assert "free = usable \u2212 in use = 7 \u2212 7 = 0" in out["lines"]
    assert not any("headroom" in line for line in out["lines"])


def test_pooler_fields():
    base = dict(max=100, reserved=3, inuse=0, instances=50, pool=5, pooler=True)
    # Empty or 0 means "not known": the suggestion is used and max_client_conn is asked for.
    for unknown in (None, 0):
        out = run(**base, dps=unknown, mcc=unknown)
        assert (
            "server connections = default_pool_size = 77 (suggested) \u2264 97 free" in out["lines"]
        )
        assert "max_client_conn not given: it must be at least 250" in out["lines"]
    out = run(**base, dps=30, mcc=250)
    assert "250 \u2264 max_client_conn 250: the pooler accepts every client" in out["lines"]
    assert "server connections = default_pool_size = 30 \u2264 97 free" in out["lines"]
    assert (
        out["lines"][-1]
        == "headroom after the load: 67 of 97 usable slots stay free (69 %, PG101 pass)"
    )
    # Without a pooler, its fields are ignored.
    assert run(**{**base, "pooler": False}, dps=30, mcc=10) == run(**{**base, "pooler": False})


def test_fractions_and_big_numbers_are_written_as_the_page_writes_them():
    out = run(max=100, reserved=3, inuse=0, instances=1, pool=1, pooler=True, dps=2.5)
    assert "server connections = default_pool_size = 2.5 \u2264 97 free" in out["lines"]
    assert "headroom after the load: 94.5 of 97" in out["lines"][-1]
    assert run(max=100.0, reserved=3.0, inuse=0.0, instances=20.0, pool=1.0) == run(
        max=100, reserved=3, inuse=0, instances=20, pool=1
    )
    out = run(max=1e30, reserved=0, inuse=0, instances=1, pool=1)
    assert out["lines"][0] == "usable = max_connections \u2212 reserved = 1e+30 \u2212 0 = 1e+30"
    assert "default_pool_size \u2264 8.000000000000001e+29 (leaves 2e+29 slots free" in out["sizes"]


def test_percent_rounds_half_up():
    # 1 of 200 slots is 0.5 %: the page (Math.round) says 1 %, Python's round() would say 0.
    out = run(max=200, reserved=0, inuse=0, instances=199, pool=1)
    assert out["lines"][-1].endswith("(1 %, PG101 fail)")


def test_in_use_may_be_empty():
    assert run(max=100, reserved=3, inuse=None, instances=20, pool=1) == run(
        max=100, reserved=3, inuse=0, instances=20, pool=1
    )


@pytest.mark.parametrize(
    "inputs",
    [
        dict(max=None, reserved=3, inuse=0, instances=20, pool=1),
        dict(max=100, reserved=None, inuse=0, instances=20, pool=1),
        dict(max=100, reserved=3, inuse=0, instances=None, pool=1),
        dict(max=100, reserved=3, inuse=0, instances=20, pool=None),
        dict(max=100.5, reserved=3, inuse=0, instances=20, pool=1),
        dict(max=100, reserved=-1, inuse=0, instances=20, pool=1),
        dict(max=100, reserved=3, inuse=2.5, instances=20, pool=1),
        dict(max=100, reserved=3, inuse=0, instances=1.5, pool=1),
        dict(max=100, reserved=3, inuse=0, instances=20, pool=0),
        dict(max=math.inf, reserved=3, inuse=0, instances=20, pool=1),
        dict(max=math.nan, reserved=3, inuse=0, instances=20, pool=1),
        dict(max=10**400, reserved=3, inuse=0, instances=20, pool=1),
        dict(max="100", reserved=3, inuse=0, instances=20, pool=1),
        dict(max=True, reserved=3, inuse=0, instances=20, pool=1),
    ],
)
def test_invalid_input(inputs):
    out = run(**inputs)
    assert out == {
        "status": "error",
        "verdict": INVALID,
        "lines": [],
        "sizes": "",
        "error": INVALID,
    }
    assert INVALID == "Enter whole numbers (instances and pool size at least 1)."


def test_sizes_line():
    out = run(max=100, reserved=3, inuse=0, instances=20, pool=1)
    assert out["sizes"] == (
        f"{SIZES_LABEL}max_client_conn \u2265 20, default_pool_size \u2264 77 "
        "(leaves 20 slots free, PG101's warning line)"
    )


@pytest.mark.parametrize(
    "x,shown",
    [
        (97.0, "97"),
        (2.5, "2.5"),
        (-3, "-3"),
        (-0.0, "0"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (123456.789, "123456.789"),
        (1 / 3, "0.3333333333333333"),
        (math.inf, "Infinity"),
        (math.nan, "NaN"),
    ],
)
def test_js_number(x, shown):
    assert calculator.js_number(x) == shown


def test_the_browser_modules_need_no_socket_and_no_third_party_package():
    code = (
        "import sys; base = set(sys.modules); import advisor.calculator, advisor.configgen; "
        "print(' '.join(sorted(set(sys.modules) - base)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    top = {m.split(".")[0] for m in loaded} - {"advisor"}
    assert top <= sys.stdlib_module_names, top - sys.stdlib_module_names
    assert not top & {"socket", "ssl", "select", "subprocess", "asyncio"}, top


def test_demand_bar_and_plain_advice():
    """The numbers the page draws its bar from, and advice that matches the case."""
    out = capacity(100, 3, 10, 50, 5, pooler=False)
    assert out["bar"] == {"demand": 250, "free": 87, "usable": 97}
    assert "Cut each instance's pool to 1" in out["advice"]
    one = capacity(100, 3, 10, 200, 1, pooler=False)
    assert "already the least" in one["advice"] and "Cut each" not in one["advice"]
    pooled = capacity(100, 3, 10, 200, 1, pooler=True)
    demand = int(pooled["bar"]["demand"])  # the suggested server-side pool
    assert f"default_pool_size \u2264 {demand} " in pooled["sizes"] and demand < 87
    assert "share" in pooled["advice"] and pooled["verdict"] == "Fits."
    full = capacity(10, 3, 7, 1, 1, pooler=False)
    assert "Every usable slot is already taken" in full["advice"]
