"""The data file the browser tools read (written by docs/hooks/tools_data.py) and the tools'
payload budget. No browser needed."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import yaml

from advisor import target
from advisor.catalog import load_checks
from advisor.catalog.providers import ORMS, load_providers

ROOT = Path(__file__).resolve().parent.parent
HOOK = ROOT / "docs" / "hooks" / "tools_data.py"
JS = ROOT / "docs" / "javascripts" / "advisor-tools.js"
CSS = ROOT / "docs" / "stylesheets" / "tools.css"
BUDGET = 30 * 1024  # JS + CSS of the tools, unminified, JSON data excluded


def _emitted(tmp_path: Path) -> dict:
    spec = importlib.util.spec_from_file_location("tools_data_hook", HOOK)
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    hook.on_post_build({"site_dir": str(tmp_path)})
    return json.loads((tmp_path / "assets" / "advisor-data.json").read_text(encoding="utf-8"))


def test_every_provider_with_its_endpoints(tmp_path):
    data = _emitted(tmp_path)
    providers = load_providers()
    assert [p["id"] for p in data["providers"]] == list(providers)  # file order: match order
    for emitted in data["providers"]:
        p = providers[emitted["id"]]
        assert emitted["name"] == p["name"] and emitted["generic"] == p["generic"]
        assert emitted["host_regex"] == p["host_regex"]
        assert [e["id"] for e in emitted["endpoints"]] == [e["id"] for e in p["endpoints"]]
        for e, src in zip(emitted["endpoints"], p["endpoints"], strict=False):
            for key in (
                "host_regex",
                "port",
                "role",
                "pooler",
                "pool_mode",
                "prepared_statements",
                "user_regex",
                "ipv6_only",
                "engine",
            ):
                assert e.get(key) == src.get(key), (emitted["id"], e["id"], key)
        assert emitted["pitfalls"] == [x.get("title") or x.get("id") for x in p["pitfalls"]]
        for orm, entry in p["orm"].items():
            assert emitted["orm"][orm]["pooled_params"] == (entry.get("pooled_params") or {})
    assert data["orms"] == list(ORMS)


def test_every_url_check_with_its_texts(tmp_path):
    data = _emitted(tmp_path)
    emitted = {c["id"]: c for c in data["checks"]}
    lint = {cid: c for cid, c in load_checks().items() if c["kind"] == "lint"}
    assert lint and set(lint) <= set(emitted)
    assert any(cid.startswith("URL") for cid in lint)
    for cid, c in lint.items():
        for key in ("title", "severity", "summary", "remediation", "engine"):
            assert emitted[cid][key] == c[key], (cid, key)
        assert emitted[cid]["docs"] == f"checks/{cid}/"
    for cid in ("PG101", "PG207"):  # the calculator's thresholds
        assert emitted[cid]["params"] == load_checks()[cid]["params"]


def test_url_grammar_comes_from_the_parser(tmp_path):
    grammar = _emitted(tmp_path)["grammar"]
    assert set(grammar["libpq_params"]) == target.LIBPQ_PARAMS
    assert set(grammar["pg_client_params"]) == target.PG_CLIENT_PARAMS
    assert grammar["sslmodes"] == list(target.SSLMODES)
    assert grammar["schemes"] == target.SCHEMES
    secret = re.compile(grammar["secret_key"], re.IGNORECASE)
    assert all(secret.search(k) for k in target.PASSWORD_KEYS + ("api_key", "token"))
    assert not any(secret.search(k) for k in ("sslmode", "connection_limit", "pgbouncer"))


def test_the_javascript_holds_no_copy_of_the_catalog():
    js = JS.read_text(encoding="utf-8")
    for p in load_providers().values():
        for e in p["endpoints"]:
            assert len(e["host_regex"]) < 8 or e["host_regex"] not in js, e["id"]
    for c in load_checks().values():
        assert c["title"] not in js, c["id"]


def test_registered_in_mkdocs_yml():
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=Loader)
    assert "docs/hooks/tools_data.py" in config["hooks"]
    assert "javascripts/advisor-tools.js" in config["extra_javascript"]
    assert "stylesheets/tools.css" in config["extra_css"]
    nav = json.dumps(config["nav"])
    for page in (
        "tools/index.md",
        "tools/url-checker.md",
        "tools/config-generator.md",
        "tools/capacity.md",
    ):
        assert page in nav


def test_payload_budget():
    size = JS.stat().st_size + CSS.stat().st_size
    assert size < BUDGET, f"tools JS + CSS are {size} bytes, budget {BUDGET}"
