"""The capacity calculator (docs/tools/capacity.md): do instances x pool size fit the server's
free slots, directly or through a pooler? PG207's question, judged by PG101's headroom
thresholds from the check catalog.

Pure and standard-library only: the page runs this module in the browser (Pyodide). The
page's numbers are JavaScript numbers, so the arithmetic is done in floats (the same IEEE
doubles) and numbers are written as JavaScript writes them ("97", not "97.0"; "1e+30").
"""

from __future__ import annotations

import math
from typing import NotRequired, TypedDict, TypeGuard, cast

from .checks import Context
from .checks.common import headroom_status, pct

INVALID = "Enter whole numbers (instances and pool size at least 1)."
SIZES_LABEL = "Pooler sizes to use: "


class Capacity(TypedDict):
    status: str  # pass, warn or fail; "error" for invalid input
    verdict: str  # the one-sentence answer
    lines: list[str]  # the arithmetic, step by step
    sizes: str  # the pooler settings to use, starting with SIZES_LABEL ("" on error)
    advice: NotRequired[str]  # what to do, in plain words
    bar: NotRequired[dict[str, float]]  # demand (connections wanted) against free and usable slots
    error: NotRequired[str]


def js_number(x: float) -> str:
    """A number as JavaScript's String(x) writes it (ECMAScript Number::toString)."""
    if x != x:
        return "NaN"
    if x == 0:
        return "0"
    if x < 0:
        return "-" + js_number(-x)
    if math.isinf(x):
        return "Infinity"
    # repr gives the shortest digits that read back as x, as JavaScript picks them.
    mantissa, _, exponent = repr(float(x)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = whole + fraction
    digits = raw.lstrip("0")
    point = len(whole) + int(exponent or 0) - (len(raw) - len(digits))  # x = 0.DIGITS x 10**point
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        return digits + "0" * (point - k)
    if 0 < point <= 21:
        return digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return "0." + "0" * -point + digits
    e = point - 1
    sign = "+" if e >= 0 else "-"
    return digits[0] + ("." + digits[1:] if k > 1 else "") + f"e{sign}{abs(e)}"


def _number(value: object) -> float | None:
    """A field's value: None when empty; NaN when not a number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    try:
        return float(value)
    except OverflowError:  # an int beyond any double, as Number() reads its digits
        return math.inf if value > 0 else -math.inf


def _whole(x: float | None, least: int = 0) -> TypeGuard[float]:
    return x is not None and (x - least).is_integer() and x - least >= 0


def _given(x: float | None) -> TypeGuard[float]:
    """Set and not 0 (an empty or zero pooler field means "not known")."""
    return x is not None and x == x and x != 0


def _max(*xs: float) -> float:
    return math.nan if any(x != x for x in xs) else max(xs)


def _floor(x: float) -> float:
    return float(math.floor(x)) if math.isfinite(x) else x


def _ceil(x: float) -> float:
    return float(math.ceil(x)) if math.isfinite(x) else x


def _round(x: float) -> float:
    """Half up, as Math.round (Python's round() goes to the even neighbour)."""
    if not math.isfinite(x):
        return x
    down = math.floor(x)
    return float(down + 1 if x - down >= 0.5 else down)


def _headroom(left: float, usable: float, ctx: Context) -> tuple[float, str]:
    """PG101's percentage and status for the slots left, by the check's own functions. Their
    hints say int, but they only divide and compare: fractional slots work as in the page."""
    part, whole = cast(int, left), cast(int, usable)
    free_pct = pct(part, whole)
    return free_pct, headroom_status("PG101", part, free_pct, ctx)


def pooler_sizes(
    max_connections: int, reserved: int, in_use: int, instances: int, pool_size: int
) -> dict[str, int]:
    """The pooler settings capacity() suggests (its `sizes` line), as numbers: clients =
    instances x pool size; default_pool_size = the free slots less PG101's warning line."""
    ctx = Context()
    usable = max_connections - reserved
    free = usable - in_use
    keep = max(
        int(ctx.param("PG101", "fail_below_slots")),
        math.ceil(usable * ctx.param("PG101", "warn_below_percent") / 100),
    )
    return {"max_client_conn": instances * pool_size, "default_pool_size": max(1, free - keep)}


def capacity(
    max_connections: float | None,
    reserved: float | None,
    in_use: float | None,
    instances: float | None,
    pool_size: float | None,
    pooler: bool,
    default_pool_size: float | None = None,
    max_client_conn: float | None = None,
) -> Capacity:
    """The calculator's answer. None is an empty field (in use then counts as 0; a pooler
    field as not known); invalid input gives status "error" and `error`, the message."""
    n = js_number
    most, spare, used = _number(max_connections), _number(reserved), _number(in_use)
    count, size = _number(instances), _number(pool_size)
    dps, mcc = _number(default_pool_size), _number(max_client_conn)
    used = 0.0 if used is None else used
    if not (
        _whole(most) and _whole(spare) and _whole(used) and _whole(count, 1) and _whole(size, 1)
    ):
        return {"status": "error", "verdict": INVALID, "lines": [], "sizes": "", "error": INVALID}
    ctx = Context()
    usable, clients = most - spare, count * size
    free = usable - used
    # Suggest a server-side pool that keeps PG101's warning line of slots free.
    keep = _max(
        ctx.param("PG101", "fail_below_slots"),
        _ceil(usable * ctx.param("PG101", "warn_below_percent") / 100),
    )
    suggested = _max(1, free - keep)
    lines = [
        f"usable = max_connections \u2212 reserved = {n(most)} \u2212 {n(spare)} = {n(usable)}",
        f"free = usable \u2212 in use = {n(usable)} \u2212 {n(used)} = {n(free)}",
        f"client connections = instances \u00d7 pool size = {n(count)} \u00d7 {n(size)} = {n(clients)}",
    ]
    fits, server, status = free > 0, clients, "fail"
    if not fits:
        lines.append("no slot is free for applications")
    elif not pooler:
        fits = clients <= free
        per = _floor(free / count)
        if fits:
            lines.append(f"{n(clients)} \u2264 {n(free)}: fits without a pooler")
        elif per >= 1:
            lines.append(
                f"{n(clients)} > {n(free)}: put a pooler in front or cut the pool to "
                f"{n(per)} per instance"
            )
        else:  # already one connection each: a smaller pool cannot help
            lines.append(
                f"{n(clients)} > {n(free)}: a pool of 1 per instance is already the least; "
                f"put a pooler in front or run at most {n(_floor(free))} instances"
            )
    else:
        server = dps if _given(dps) else suggested
        fits = not (_given(mcc) and clients > mcc) and server <= free
        if not _given(mcc):
            lines.append(f"max_client_conn not given: it must be at least {n(clients)}")
        elif clients <= mcc:
            lines.append(
                f"{n(clients)} \u2264 max_client_conn {n(mcc)}: the pooler accepts every client"
            )
        else:
            lines.append(
                f"{n(clients)} > max_client_conn {n(mcc)}: raise it to at least {n(clients)}"
            )
        lines.append(
            f"server connections = default_pool_size = {n(server)}"
            + ("" if _given(dps) else " (suggested)")
            + (
                f" \u2264 {n(free)} free"
                if server <= free
                else f" > {n(free)} free: lower it to at most {n(suggested)}"
            )
        )
    if free > 0:
        left = _max(0, free - server)
        free_pct, status = _headroom(left, usable, ctx)
        lines.append(
            f"headroom after the load: {n(left)} of {n(usable)} usable slots stay free "
            f"({n(_round(free_pct))} %, PG101 {status})"
        )
    if not fits:
        verdict = "Does not fit."
    elif status == "pass":
        verdict = "Fits."
    else:
        verdict = f"Fits, but leaves little headroom (PG101 {status})."
    advice = _advice(
        fits,
        pooler,
        free,
        usable,
        count,
        size,
        clients,
        server,
        suggested,
        mcc,
        _max(0, free - server),
    )
    sizes = (
        f"{SIZES_LABEL}max_client_conn \u2265 {n(clients)}, default_pool_size \u2264 "
        f"{n(suggested)} (leaves {n(keep)} slots free, PG101's warning line)"
    )
    return {
        "status": status if fits else "fail",
        "verdict": verdict,
        "lines": lines,
        "sizes": sizes,
        "advice": advice,
        "bar": {"demand": server, "free": _max(0, free), "usable": usable},
    }


def _advice(
    fits: bool,
    pooler: bool,
    free: float,
    usable: float,
    count: float,
    size: float,
    clients: float,
    server: float,
    suggested: float,
    mcc: float | None,
    left: float,
) -> str:
    """The answer in plain words: what to do next."""
    n = js_number
    each = f"{n(count)} instance{'s' if count != 1 else ''} \u00d7 {n(size)} connection{'s' if size != 1 else ''}"
    if free <= 0:
        return (
            "Every usable slot is already taken: free some (idle clients, other applications) "
            "or raise max_connections before adding instances."
        )
    if not pooler:
        if fits:
            return (
                f"{each} = {n(clients)} of the {n(free)} free slots. More instances in a traffic "
                "spike eat into the rest; a transaction-mode pooler removes that limit."
            )
        if _floor(free / count) >= 1:
            return (
                f"{each} want {n(clients)} slots but only {n(free)} are free. Cut each "
                f"instance's pool to {n(_floor(free / count))}, or put a transaction-mode "
                "pooler in front so that all instances share the free slots."
            )
        return (
            f"{each} want {n(clients)} slots but only {n(free)} are free, and one connection "
            "per instance is already the least a pool can be. The answer is a transaction-mode "
            f"pooler in front (the instances then share its server connections), or at most "
            f"{n(_floor(free))} instances."
        )
    if _given(mcc) and clients > mcc:
        return (
            f"The pooler turns away clients beyond max_client_conn ({n(mcc)}): raise it to at "
            f"least {n(clients)}."
        )
    if server > free:
        return (
            f"The pooler may open {n(server)} server connections but only {n(free)} slots are "
            f"free: lower default_pool_size to {n(suggested)}."
        )
    return (
        f"The {n(clients)} client connections share {n(server)} server connections through "
        f"the pooler, and {n(left)} of {n(usable)} slots stay free."
    )
