"""Helpers shared by the tests, the demo and the bench: throwaway servers (`servers`,
`servers_mysql`), wire-protocol fakes (`fakepg`, `fakemysql`), the delay forward
(`delayproxy`), starting them or skipping (`live`), running the CLI (`cli`), serving and
building the site (`web`, `site`), sample reports (`reports`), the URL vectors (`vectors`)
and generated URLs (`urlgen`), the capacity table (`capacity`), the site's hooks (`hooks`),
the Debian 13 root with PgBouncer 1.24 (`trixie`), the real-driver client programs
(`drivers`) and harvesting every artifact of a run (`harvest`). Test modules import these, never each
other."""
