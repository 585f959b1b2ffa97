"""Build-time pages for the docs site, from the package's own data (nothing written twice).

Registered twice in mkdocs.yml:
- as a MkDocs hook: `on_config` expands the Providers, Stacks and Checks nav entries,
  `on_files` adds the generated pages as virtual files (a missing or malformed
  docs/data/driver-matrix.json stops the build with one line), `on_page_markdown` points
  their edit links at the file each page is generated from;
- as the mkdocs-macros module (`define_env`): small tables for hand-written pages that opt in
  with `render_macros: true`.

One module per page family builds the Markdown:
pages_providers.py (providers/*), pages_stacks.py (stacks/*, compatibility.md),
pages_checks.py (checks/*), pages_cli.py (cli.md) and pages_readiness.py (readiness.md,
readiness/*: rendered by advisor/render/site.py).
"""

from __future__ import annotations

import posixpath
import sys
from pathlib import Path
from urllib.parse import urljoin

HOOKS = Path(__file__).resolve().parent
if str(HOOKS) not in sys.path:  # the page modules next to this file, whoever loads it
    sys.path.insert(0, str(HOOKS))

from pages_checks import check_page, checks_index  # noqa: E402
from pages_cli import cli_page  # noqa: E402
from pages_providers import provider_page, providers_index  # noqa: E402
from pages_readiness import readiness_pages  # noqa: E402
from pages_stacks import (  # noqa: E402
    MATRIX_FILE,
    MatrixError,
    catalog_id,
    compatibility_page,
    load_matrix,
    matrix_path,
    page_id,
    shown_path,
    stack_page,
    stacks_index,
)
from pages_text import ROOT, cell, source_link  # noqa: E402

from advisor import catalog  # noqa: E402
from advisor.catalog.providers import load_providers  # noqa: E402
from advisor.catalog.stacks import load_stacks  # noqa: E402

# generated page (src_uri) -> (what it is generated from, the file its edit link opens)
GENERATED: dict[str, tuple[str, str]] = {}


# --------------------------------------------------------------------------- sources


STACKS_TOML = "advisor/catalog/stacks.toml"
MATRIX_JSON = "docs/data/driver-matrix.json"  # what `make matrix` writes


def sources(
    config, providers: dict, checks: dict, pages: dict, stacks: dict, measured: set[str]
) -> dict[str, tuple[str, str]]:
    """For each generated page: the words naming its source, and the repository file
    (relative to the project root) its edit link opens. `measured`: the stacks that have
    cells in the matrix (their pages show them)."""
    notes_dir = Path(config.docs_dir) / "providers" / "_notes"
    matrix = f"`{shown_path(matrix_path())}`"
    out = {
        "stacks/index.md": (f"`{STACKS_TOML}`", STACKS_TOML),
        "compatibility.md": (f"{matrix} (written by `make matrix`)", MATRIX_JSON),
        "providers/index.md": (
            "`advisor/catalog/providers.toml`",
            "advisor/catalog/providers.toml",
        ),
        "checks/index.md": (
            "`advisor/catalog/checks/*.toml`, by `docs/hooks/pages_checks.py`",
            "docs/hooks/pages_checks.py",
        ),
        "cli.md": ("the argument parser in `advisor/cli.py`", "advisor/cli.py"),
    }
    for pid in providers:
        note = notes_dir / f"{pid}.md"
        words = "`advisor/catalog/providers.toml`"
        if note.is_file():
            words += f" and `{posixpath.relpath(note.as_posix(), ROOT.as_posix())}`"
        out[f"providers/{pid}.md"] = (words, "advisor/catalog/providers.toml")
    for sid in stacks:
        words = f"`{STACKS_TOML}` (entry `{sid}`)" + (f" and {matrix}" if sid in measured else "")
        out[f"stacks/{page_id(sid)}"] = (words, STACKS_TOML)
    for cid, c in checks.items():
        path = f"advisor/catalog/checks/{c['file']}"
        out[f"checks/{cid}.md"] = (f"`{path}` (entry `{cid}`)", path)
    for src in pages:
        if src == "readiness.md" or src.startswith("readiness/"):
            out[src] = (
                "the report files in the reports folder, by `advisor/render/site.py`",
                "advisor/render/site.py",
            )
    return out


def edit_url(config, path: str) -> str | None:
    """The edit link for a project file: repo_url + edit_uri (which points into docs/),
    then the file relative to docs_dir, so edit_uri's branch and host style are kept."""
    if not config.repo_url or not config.edit_uri:
        return None
    base = urljoin(config.repo_url.rstrip("/") + "/", config.edit_uri)
    if not base.endswith("/"):
        base += "/"
    docs = Path(config.docs_dir).resolve()
    rel = posixpath.relpath((ROOT / path).as_posix(), docs.as_posix())
    return urljoin(base, rel)


# --------------------------------------------------------------------------- MkDocs hooks


# The checks' sidebar, PostgreSQL first: one short group per subject, not one long list.
CHECK_GROUPS = ("PostgreSQL", "URL", "Stacks", "MySQL and MariaDB", "Other")


def check_group(cid: str, c: dict) -> str:
    for prefix, group in (
        ("PG", "PostgreSQL"),
        ("URL", "URL"),
        ("STK", "Stacks"),
        ("MY", "MySQL and MariaDB"),
    ):
        if cid.startswith(prefix):
            return group
    return "Other"


def _expand(nav, providers: dict, checks: dict, stacks: dict):
    result = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if value == "providers/index.md":
            value = ["providers/index.md"] + [
                {p["name"]: f"providers/{pid}.md"} for pid, p in providers.items()
            ]
        elif value == "stacks/index.md":
            value = ["stacks/index.md"] + [
                {
                    title: [
                        {e["name"]: f"stacks/{page_id(sid)}"}
                        for sid, e in stacks.items()
                        if e["kind"] == kind
                    ]
                }
                for kind, title in (("driver", "Drivers"), ("orm", "ORMs"))
            ]
        elif value == "checks/index.md":
            value = ["checks/index.md"] + [
                {
                    group: [
                        {f"{cid} {c['title']}": f"checks/{cid}.md"}
                        for cid, c in sorted(checks.items())
                        if check_group(cid, c) == group
                    ]
                }
                for group in CHECK_GROUPS
                if any(check_group(cid, c) == group for cid, c in checks.items())
            ]
        elif isinstance(value, list):
            value = _expand(value, providers, checks, stacks)
        if isinstance(item, dict):
            result.append({next(iter(item)): value})
        elif isinstance(value, list):  # a bare index inside a section: its pages join it
            result.extend(value)
        else:
            result.append(value)
    return result


def on_config(config):
    if config.nav:
        config.nav = _expand(config.nav, load_providers(), catalog.load_checks(), load_stacks())
    return config


def on_files(files, config):
    from mkdocs.exceptions import PluginError
    from mkdocs.structure.files import File

    providers, checks, stacks = load_providers(), catalog.load_checks(), load_stacks()
    try:
        matrix = load_matrix()
    except MatrixError as exc:  # one line, not a traceback
        raise PluginError(f"compatibility matrix: {exc}") from None
    notes_dir = Path(config.docs_dir) / "providers" / "_notes"
    pages = {
        "providers/index.md": providers_index(providers),
        "stacks/index.md": stacks_index(stacks),
        "compatibility.md": compatibility_page(
            matrix, MATRIX_JSON, download=matrix_path().resolve() == MATRIX_FILE.resolve()
        ),
        "checks/index.md": checks_index(checks),
        "cli.md": cli_page(),
        **readiness_pages(config, checks, providers),
    }
    for pid, p in providers.items():
        note = notes_dir / f"{pid}.md"
        pages[f"providers/{pid}.md"] = provider_page(p, note.read_text() if note.is_file() else "")
    cells: dict[str, list[dict]] = {}
    for c in matrix["cells"]:
        cells.setdefault(catalog_id(c), []).append(c)
    for sid, entry in stacks.items():
        pages[f"stacks/{page_id(sid)}"] = stack_page(entry, cells.get(sid, []))
    for cid, c in checks.items():
        pages[f"checks/{cid}.md"] = check_page(c)
    GENERATED.clear()
    GENERATED.update(sources(config, providers, checks, pages, stacks, set(cells)))
    for src, content in pages.items():
        if files.get_file_from_path(src) is not None:
            raise ValueError(f"docs/{src} is generated at build time; remove the hand-written file")
        words = GENERATED[src][0]
        content = (
            content.rstrip("\n") + f"\n\n---\n\n*Generated from {words} when the site is built.*\n"
        )
        files.append(File.generated(config, src, content=content))
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri in GENERATED:
        # the Markdown is made at build time: edit the file it is made from
        page.edit_url = edit_url(config, GENERATED[page.file.src_uri][1])
    return markdown


# --------------------------------------------------------------------------- macros


def define_env(env):
    @env.macro
    def provider_links() -> str:
        return ", ".join(
            f"[{p['name']}](providers/{pid}.md)"
            for pid, p in load_providers().items()
            if not p["generic"]
        )

    @env.macro
    def check_count() -> int:
        return len(catalog.load_checks())

    @env.macro
    def corrections() -> str:
        """Every catalog fact that replaced a claim of the page this site grew from, with the
        provider it belongs to: the changelog keeps them, the provider pages state the fact."""
        from pages_text import prose

        out = []
        for pid, p in load_providers().items():
            for f in p["facts"]:
                if f.get("outdated_seed_claim"):
                    out += [
                        f"- **[{cell(p['name'])}](providers/{pid}.md)**: the old page said "
                        f"“{prose(f['outdated_seed_claim'])}” Now: {prose(f['text'])} "
                        f"({source_link(f)})",
                    ]
        return "\n".join(out) or "*No corrections recorded.*"

    @env.macro
    def bench_summary() -> str:
        """Three lines for users from bench/results.json (the contributors' pages have it all)."""
        import json

        r = json.loads((ROOT / "bench" / "results.json").read_text())
        probe = r["postgres"]["advisor_probe"]["median"]
        ratio = r["postgres"]["ratios"]["check_postgres_over_probe"]
        legs = {leg["name"]: leg for leg in r["burst"]["runs"][0]["legs"]}
        direct, pooled = legs["direct"], legs["via pooler"]
        lint = r["startup"]["advisor_lint"]["median"]
        return "\n".join(
            [
                f"- `advisor probe` takes about {probe:g} ms against a local PostgreSQL "
                f"(check_postgres' one check: {ratio:g}× that) and opens one connection.",
                f"- `advisor lint` answers in about {lint:g} ms and never touches the network.",
                f"- With {direct['clients']} clients on 20 slots, {direct['failed']} failed "
                f"directly and {pooled['failed']} through PgBouncer "
                f"([the burst chart](contributors/burst.md)).",
            ]
        )

    @env.macro
    def pooler_endpoints(pooler: str) -> str:
        """Catalog endpoints served by one pooler (for the pooler pages, one level down)."""
        rows = ["| Provider | Endpoint | Port | Pool mode | Source |", "|---|---|---:|---|---|"]
        for pid, p in load_providers().items():
            for e in p["endpoints"]:
                if e.get("pooler") == pooler:
                    rows.append(
                        f"| [{cell(p['name'])}](../providers/{pid}.md) "
                        f"| {cell(e.get('label'))} | {e.get('port') or 'default'} "
                        f"| {e.get('pool_mode') or '—'} | {source_link(e)} |"
                    )
        return "\n".join(rows) if len(rows) > 2 else "*No catalog endpoint uses it yet.*"

    @env.macro
    def orm_notes(orm: str) -> str:
        """Provider-specific notes for one ORM (for the ORM pages, one level down)."""
        rows = [
            "| Provider | Pooled URL parameters | Needs direct URL | Note |",
            "|---|---|---|---|",
        ]
        for pid, p in load_providers().items():
            e = p["orm"].get(orm)
            if e:
                params = "&".join(f"{k}={v}" for k, v in (e.get("pooled_params") or {}).items())
                rows.append(
                    f"| [{cell(p['name'])}](../providers/{pid}.md) "
                    f"| {f'`{params}`' if params else '—'} "
                    f"| {'yes' if e.get('direct_url') else 'no'} "
                    f"| {cell(e.get('note'))} ({source_link(e)}) |"
                )
        return "\n".join(rows) if len(rows) > 2 else "*No provider-specific notes yet.*"
