"""MkDocs hook: put what the browser tools (docs/tools/) run into the built site.

The tool pages run the `advisor` package itself with Pyodide (CPython compiled to
WebAssembly), so a rule, a message or a snippet is written once, in Python, and the page
shows what the CLI would. This hook copies the Pyodide runtime from node_modules/ (installed
by `npm ci` from package.json, which pins its version) into assets/pyodide/, zips the
package's sources and data files into assets/advisor-<hash>.zip (the hash makes a changed
package a new URL, so no browser keeps a stale one), and names both in
assets/advisor-runtime.json, which docs/javascripts/advisor-tools.js reads first.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from pathlib import Path

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[2]
PYODIDE = ROOT / "node_modules" / "pyodide"
# What loadPyodide() fetches from its indexURL with no extra packages.
PYODIDE_FILES = (
    "pyodide.js",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)
PACKAGE_SUFFIXES = (".py", ".toml", ".json")  # code, catalogs, the report schema
MANIFEST = "assets/advisor-runtime.json"


def package_zip(package: Path) -> bytes:
    """The package's sources and data files as a zip, byte-identical for the same files
    (sorted, fixed timestamps), with `advisor/` at its root."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(package.rglob("*")):
            if path.suffix not in PACKAGE_SUFFIXES or "__pycache__" in path.parts:
                continue
            info = zipfile.ZipInfo(
                f"{package.name}/{path.relative_to(package).as_posix()}", (1980, 1, 1, 0, 0, 0)
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


def write_runtime(site_dir: Path, package: Path = ROOT / "advisor") -> dict[str, str]:
    """Copy Pyodide and the zipped package under site_dir/assets/; return the manifest."""
    missing = [f for f in PYODIDE_FILES if not (PYODIDE / f).is_file()]
    if missing:
        raise PluginError(
            f"the browser tools need Pyodide in {PYODIDE} (missing {', '.join(missing)}): "
            "run `make node` (npm ci) first"
        )
    assets = site_dir / "assets"
    (assets / "pyodide").mkdir(parents=True, exist_ok=True)
    for name in PYODIDE_FILES:
        shutil.copyfile(PYODIDE / name, assets / "pyodide" / name)
    for old in assets.glob("advisor-*.zip"):  # an earlier build's (`mkdocs serve`)
        old.unlink()
    data = package_zip(package)
    name = f"advisor-{hashlib.sha256(data).hexdigest()[:12]}.zip"
    (assets / name).write_bytes(data)
    version = json.loads((PYODIDE / "package.json").read_text(encoding="utf-8"))["version"]
    manifest = {"package": name, "pyodide": "pyodide/", "pyodide_version": version}
    (site_dir / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return manifest


def on_post_build(config, **kwargs):
    write_runtime(Path(config["site_dir"]))
