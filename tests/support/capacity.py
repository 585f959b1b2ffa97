"""The capacity calculator's table: inputs, how the verdict starts, strings the arithmetic
must show. Asserted on advisor/calculator.py (test_calculator.py) and on the page that runs it
(test_tools_browser.py)."""

CAPACITY = [
    (
        dict(max=100, reserved=3, inuse=0, instances=20, pool=1),
        "Fits.",
        [
            "97 \u2212 0 = 97",
            "20 \u00d7 1 = 20",
            "20 \u2264 97",
            "77 of 97 usable slots stay free (79 %, PG101 pass)",
        ],
    ),
    (
        dict(max=100, reserved=3, inuse=0, instances=50, pool=5),
        "Does not fit.",
        ["50 \u00d7 5 = 250", "250 > 97", "cut the pool to 1 per instance"],
    ),
    (
        dict(max=100, reserved=3, inuse=10, instances=80, pool=1),
        "Fits, but leaves little headroom (PG101 fail)",
        ["free = usable \u2212 in use = 97 \u2212 10 = 87", "80 \u2264 87", "7 of 97"],
    ),
    (
        dict(max=100, reserved=3, inuse=0, instances=8, pool=10),
        "Fits, but leaves little headroom (PG101 warn)",
        ["80 \u2264 97", "17 of 97 usable slots stay free (18 %, PG101 warn)"],
    ),
    (
        dict(max=100, reserved=3, inuse=0, instances=50, pool=5, pooler=True),
        "Fits.",
        [
            "max_client_conn not given: it must be at least 250",
            "default_pool_size = 77 (suggested)",
            "max_client_conn \u2265 250, default_pool_size \u2264 77",
        ],
    ),
    (
        dict(max=100, reserved=3, inuse=0, instances=50, pool=5, pooler=True, dps=20, mcc=100),
        "Does not fit.",
        [
            "250 > max_client_conn 100: raise it to at least 250",
            "default_pool_size = 20 \u2264 97 free",
        ],
    ),
    (
        dict(max=100, reserved=3, inuse=0, instances=50, pool=5, pooler=True, dps=120, mcc=1000),
        "Does not fit.",
        ["250 \u2264 max_client_conn 1000", "120 > 97 free: lower it to at most 77"],
    ),
    (
        dict(max=25, reserved=3, inuse=0, instances=4, pool=5),
        "Fits, but leaves little headroom (PG101 fail)",
        ["20 \u2264 22", "2 of 22"],
    ),
    (dict(max=10, reserved=10, inuse=0, instances=1, pool=1), "Does not fit.", ["no slot is free"]),
    # Already one connection per instance: a smaller pool is no answer, a pooler (or fewer
    # instances) is.
    (
        dict(max=100, reserved=3, inuse=0, instances=200, pool=1),
        "Does not fit.",
        [
            "200 > 97: a pool of 1 per instance is already the least",
            "run at most 97 instances",
            "The answer is a transaction-mode pooler in front",
        ],
    ),
    (dict(max=100, reserved=3, inuse=0, instances=0, pool=1), "Enter whole numbers", []),
]
