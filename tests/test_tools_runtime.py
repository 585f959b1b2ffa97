"""What the browser tools run (docs/hooks/tools_runtime.py): Pyodide copied from node_modules
and the package zipped into the site, and a page script that only draws. No browser needed."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from mkdocs.exceptions import PluginError

from advisor.catalog import load_checks
from advisor.catalog.providers import load_providers
from advisor.webtools import check_url
from tests.support.hooks import load_hook

ROOT = Path(__file__).resolve().parent.parent
JS = ROOT / "docs" / "javascripts" / "advisor-tools.js"
CSS = ROOT / "docs" / "stylesheets" / "tools.css"
BUDGET = 16 * 1024  # the page script + CSS, unminified: drawing only
RUNTIME_BUDGET = 16 * 1024 * 1024  # Pyodide + the package, what a tool page fetches once


def _hook():
    return load_hook("tools_runtime")


def test_the_zip_holds_the_package_and_is_reproducible():
    hook = _hook()
    data = hook.package_zip(ROOT / "advisor")
    assert data == hook.package_zip(ROOT / "advisor")  # same files, same bytes (cacheable)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    for needed in (
        "advisor/webtools.py",
        "advisor/cli.py",
        "advisor/catalog/providers.toml",
        "advisor/catalog/checks/url.toml",
        "advisor/schema/report-v1.json",
    ):
        assert needed in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    on_disk = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "advisor").rglob("*")
        if p.suffix in (".py", ".toml", ".json") and "__pycache__" not in p.parts
    }
    assert set(names) == on_disk


def test_the_zipped_package_runs_on_its_own(tmp_path):
    """Unzipped alone (no site-packages, as in the page), it lints exactly as the installed one."""
    zipfile.ZipFile(io.BytesIO(_hook().package_zip(ROOT / "advisor"))).extractall(tmp_path)
    url = "postgresql://postgres.abc:Pw-Zip-1@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
    code = (
        "import json, sys; from advisor.webtools import check_url; "
        f"r = check_url({url!r}, orm='prisma'); r['report'].pop('generated_at'); "
        "print(json.dumps(r))"
    )
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(tmp_path), "HOME": str(tmp_path)}
    r = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert r.returncode == 0, r.stderr
    mine = check_url(url, orm="prisma")
    mine["report"].pop("generated_at")
    assert json.loads(r.stdout) == mine


def test_write_runtime_copies_pyodide_and_names_both(tmp_path):
    hook = _hook()
    manifest = hook.write_runtime(tmp_path)
    assets = tmp_path / "assets"
    assert json.loads((tmp_path / hook.MANIFEST).read_text()) == manifest
    for name in hook.PYODIDE_FILES:
        assert (assets / "pyodide" / name).stat().st_size > 0
    zipped = assets / manifest["package"]
    assert zipped.read_bytes() == hook.package_zip(ROOT / "advisor")
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert manifest["pyodide_version"] == lock["packages"]["node_modules/pyodide"]["version"]
    size = sum(p.stat().st_size for p in assets.rglob("*") if p.is_file())
    assert size < RUNTIME_BUDGET, f"a tool page fetches {size} bytes, budget {RUNTIME_BUDGET}"
    hook.write_runtime(tmp_path)  # again (`mkdocs serve`): one package zip, not two
    assert len(list(assets.glob("advisor-*.zip"))) == 1


def test_missing_pyodide_stops_the_build_with_the_fix(tmp_path, monkeypatch):
    hook = _hook()
    monkeypatch.setattr(hook, "PYODIDE", tmp_path / "nothing")
    with pytest.raises(PluginError, match=r"make node"):
        hook.write_runtime(tmp_path / "site")


def test_the_page_script_holds_no_rule():
    """Rules, messages, catalogs and URL grammar live in the package, not in the script."""
    js = JS.read_text(encoding="utf-8")
    for p in load_providers().values():
        assert p["name"] not in js or len(p["name"]) < 5, p["id"]
        for e in p["endpoints"]:
            assert len(e["host_regex"]) < 8 or e["host_regex"] not in js, e["id"]
    for c in load_checks().values():
        assert c["title"] not in js, c["id"]
    for word in ("sslmode", "pgbouncer", "connection_limit", "PG101", "URL2", "postgres", "6543"):
        assert word not in js, word


def test_registered_in_mkdocs_yml():
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=Loader)
    assert "docs/hooks/tools_runtime.py" in config["hooks"]
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
