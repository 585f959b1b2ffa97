"""Which driver and ORM a project uses, read from the files that name them.

package.json, requirements.txt, pyproject.toml, Gemfile.lock, go.mod, composer.json, mix.exs
and schema.prisma, in the project folder. Pure and offline: files are read as every user file
is (sources.read_text_input: regular files only, UTF-8), each at most MAX_FILE_BYTES, and a
file that cannot be read or parsed gives a one-line note instead of an error. What a package
name means comes from the stack catalog (`packages`, `adapter_packages`), not from here.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalog.stacks import Stack, load_stacks, orm_rules, resolve
from .errors import UsageError
from .sources import read_text_input

# Manifests are small; a larger file is not one (a vendored lock file, a data dump).
MAX_FILE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Found:
    """One stack a file names: the catalog id, the file, and the line or key that says so."""

    stack: str
    file: str
    evidence: str
    version: str | None = None  # the version the file asks for (major or major.minor)
    adapter: bool = False  # a package that picks the ORM's driver (@prisma/adapter-pg)


@dataclass(frozen=True)
class Detection:
    found: tuple[Found, ...] = ()
    notes: tuple[str, ...] = ()  # one line each: a file that could not be read or parsed
    engines: tuple[str, ...] = ()  # engines a file names (schema.prisma's provider)

    def ids(self, kind: str) -> list[str]:
        """Distinct catalog ids of one kind ("orm" or "driver"), in the order found."""
        catalog = load_stacks()
        out: list[str] = []
        for f in self.found:
            if catalog[f.stack]["kind"] == kind and f.stack not in out:
                out.append(f.stack)
        return out

    def version(self, stack_id: str) -> str | None:
        return next((f.version for f in self.found if f.stack == stack_id and f.version), None)

    def stack(self) -> tuple[Stack | None, str | None]:
        """(the stack, None), or (None, why not) when the files name none or several."""
        orms, drivers = self.ids("orm"), self.ids("driver")
        if len(orms) > 1:
            return None, f"several ORMs found ({', '.join(orms)}): name one with --orm"
        if not orms:
            if len(drivers) == 1:
                return resolve(driver=drivers[0]), None
            if not drivers:
                return None, "no driver or ORM found"
            return None, f"several drivers found ({', '.join(drivers)}): name one with --driver"
        orm = orms[0]
        version = self.version(orm)
        adapters = [f.stack for f in self.found if f.adapter]
        try:
            _, allowed = orm_rules(load_stacks()[orm], version)
            candidates = [d for d in [*adapters, *drivers] if d in allowed]
            return resolve(orm, candidates[0] if candidates else None, version), None
        except ValueError as exc:
            return None, str(exc)


@dataclass
class _Scan:
    root: Path
    packages: dict[str, str]  # "npm:pg" -> stack id
    adapters: dict[str, str]  # "npm:@prisma/adapter-pg" -> driver id
    found: list[Found] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    engines: list[str] = field(default_factory=list)

    def package(self, key: str, file: str, evidence: str, spec: str | None = None) -> None:
        evidence = _clean(evidence)
        stack = self.packages.get(key)
        if stack is not None:
            self.found.append(Found(stack, file, evidence, _version_of(spec)))
        driver = self.adapters.get(key)
        if driver is not None:
            self.found.append(Found(driver, file, evidence, adapter=True))


def _clean(text: str) -> str:
    """File content shown back: printable characters only, one short line."""
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return text if len(text) <= 120 else text[:117] + "..."


def _version_of(spec: str | None) -> str | None:
    """The version a requirement asks for: '^7.0.0' -> '7', '>=2.1,<3' -> '2.1'."""
    if not spec:
        return None
    m = re.search(r"(?<![\w.])v?(\d+)(?:\.(\d+))?", spec)
    if m is None:
        return None
    # A minor version matters only where the catalog has one (SQLAlchemy 2.1).
    return f"{m.group(1)}.{m.group(2)}" if m.group(2) and m.group(2) != "0" else m.group(1)


def _read(scan: _Scan, name: str) -> str | None:
    """The text of root/name, or None: missing is silent, anything else is a note."""
    path = scan.root / name
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, ValueError) as exc:
        scan.notes.append(f"{name}: cannot read it ({getattr(exc, 'strerror', None) or exc})")
        return None
    if not stat.S_ISREG(info.st_mode):
        scan.notes.append(f"{name}: not a regular file, skipped")
        return None
    if info.st_size > MAX_FILE_BYTES:
        scan.notes.append(f"{name}: larger than {MAX_FILE_BYTES >> 20} MB, skipped")
        return None
    try:
        return read_text_input(path, "project file")
    except UsageError as exc:  # its message names the file: say "the file" instead
        scan.notes.append(f"{name}: {str(exc).replace(f'project file {path}', 'the file')}")
        return None


def _pep508_name(text: str) -> tuple[str, str] | None:
    """(normalised name, the rest) of a requirement line, or None."""
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)", text)
    if m is None:
        return None
    return re.sub(r"[-_.]+", "-", m.group(1)).lower(), m.group(3)


def _python(scan: _Scan, file: str, requirements: Iterator[str]) -> None:
    for req in requirements:
        parsed = _pep508_name(req)
        if parsed is not None:
            name, rest = parsed
            scan.package(f"pypi:{name}", file, req.strip(), rest)


def _package_json(scan: _Scan, text: str) -> None:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    for section in ("dependencies", "devDependencies", "optionalDependencies"):
        deps = data.get(section)
        if not isinstance(deps, dict):
            continue
        for name, spec in deps.items():
            spec = spec if isinstance(spec, str) else None
            scan.package(
                f"npm:{name.lower()}",
                "package.json",
                f"{section}.{name} {spec or ''}".strip(),
                spec,
            )


def _requirements(scan: _Scan, text: str) -> None:
    # pip's format: a comment runs from # to the end of the line; -r, -e, --index-url are options.
    lines = (re.sub(r"(^|\s)#.*", "", line) for line in text.splitlines())
    _python(
        scan,
        "requirements.txt",
        (ln for ln in lines if ln.strip() and not ln.lstrip().startswith("-")),
    )


def _pyproject(scan: _Scan, text: str) -> None:
    import tomllib

    data = tomllib.loads(text)
    project = data.get("project", {})
    reqs: list[str] = []
    if isinstance(project, dict):
        reqs += [r for r in project.get("dependencies", []) if isinstance(r, str)]
        for group in (project.get("optional-dependencies") or {}).values():
            reqs += [r for r in group if isinstance(r, str)] if isinstance(group, list) else []
    for group in (data.get("dependency-groups") or {}).values():
        reqs += [r for r in group if isinstance(r, str)] if isinstance(group, list) else []
    poetry = (data.get("tool") or {}).get("poetry") or {}
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    tables += [
        g.get("dependencies") for g in (poetry.get("group") or {}).values() if isinstance(g, dict)
    ]
    for table in tables:
        if not isinstance(table, dict):
            continue
        for name, spec in table.items():
            version = (
                spec
                if isinstance(spec, str)
                else spec.get("version")
                if isinstance(spec, dict)
                else None
            )
            reqs.append(f"{name} {version or ''}")
    _python(scan, "pyproject.toml", iter(reqs))


def _gemfile_lock(scan: _Scan, text: str) -> None:
    # Bundler's lock file: installed gems are "    name (version)" under "  specs:".
    for m in re.finditer(r"^    ([A-Za-z0-9_.-]+) \(([^)\s]+)[^)]*\)$", text, re.MULTILINE):
        scan.package(
            f"gem:{m.group(1)}", "Gemfile.lock", f"{m.group(1)} ({m.group(2)})", m.group(2)
        )


def _go_mod(scan: _Scan, text: str) -> None:
    in_block = False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("require ("):
            in_block = True
            continue
        if in_block and line.startswith(")"):
            in_block = False
            continue
        if "// indirect" in line:
            continue  # pulled in by another module, not used by the code
        m = (
            re.match(r"(?:require\s+)?(\S+)\s+(v\S+)", line)
            if in_block or line.startswith("require ")
            else None
        )
        if m is not None:
            scan.package(
                f"go:{m.group(1)}", "go.mod", f"require {m.group(1)} {m.group(2)}", m.group(2)
            )


def _composer(scan: _Scan, text: str) -> None:
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    for section in ("require", "require-dev"):
        deps = data.get(section)
        if isinstance(deps, dict):
            for name, spec in deps.items():
                spec = spec if isinstance(spec, str) else None
                scan.package(
                    f"composer:{name.lower()}",
                    "composer.json",
                    f"{section}.{name} {spec or ''}".strip(),
                    spec,
                )


def _mix_exs(scan: _Scan, text: str) -> None:
    # Elixir source: dependencies are tuples like {:ecto_sql, "~> 3.10"} in deps/0.
    code = "\n".join(line.split("#")[0] for line in text.splitlines())
    for m in re.finditer(r"\{\s*:([a-z_][a-z0-9_]*)\s*,\s*\"([^\"]*)\"", code):
        scan.package(
            f"hex:{m.group(1)}", "mix.exs", f'{{:{m.group(1)}, "{m.group(2)}"}}', m.group(2)
        )


PRISMA_PROVIDERS = {"postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql"}


def _schema_prisma(scan: _Scan, text: str, file: str) -> None:
    # The provider line of the datasource block; comments run from // to the end of a line.
    inside = False
    for raw in text.splitlines():
        line = raw.split("//")[0].strip()
        if re.match(r"datasource\s+\w+\s*\{", line):
            inside = True
        elif inside and line.startswith("}"):
            break
        elif inside and (m := re.match(r'provider\s*=\s*"([^"]*)"', line)):
            provider = m.group(1)
            scan.found.append(Found("prisma", file, _clean(f'datasource provider "{provider}"')))
            if provider in PRISMA_PROVIDERS:
                scan.engines.append(PRISMA_PROVIDERS[provider])
            return


FILES: tuple[tuple[str, Callable[[_Scan, str], None]], ...] = (
    ("package.json", _package_json),
    ("requirements.txt", _requirements),
    ("pyproject.toml", _pyproject),
    ("Gemfile.lock", _gemfile_lock),
    ("go.mod", _go_mod),
    ("composer.json", _composer),
    ("mix.exs", _mix_exs),
    ("prisma/schema.prisma", lambda scan, text: _schema_prisma(scan, text, "prisma/schema.prisma")),
    ("schema.prisma", lambda scan, text: _schema_prisma(scan, text, "schema.prisma")),
)


def _problem(exc: Exception) -> str:
    """One line for a parse error, without the file's content."""
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON (line {exc.lineno}): {exc.msg}"
    if isinstance(exc, RecursionError):
        return "nested too deeply to read"
    if type(exc).__name__ == "TOMLDecodeError":
        return f"not valid TOML: {str(exc).splitlines()[0]}"
    return f"cannot parse it: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"


def detect(project: str | os.PathLike[str]) -> Detection:
    """What the project's files say about its stack. Never raises for a file's content."""
    catalog = load_stacks()
    packages = {p: stack_id for stack_id, e in catalog.items() for p in e["packages"]}
    adapters = {p: d for e in catalog.values() for p, d in e.get("adapter_packages", {}).items()}
    scan = _Scan(Path(project), packages, adapters)
    for name, parse in FILES:
        text = _read(scan, name)
        if text is None:
            continue
        try:
            parse(scan, text)
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            scan.notes.append(f"{name}: {_problem(exc)}")
    return Detection(tuple(scan.found), tuple(scan.notes), tuple(dict.fromkeys(scan.engines)))


def describe(detection: Detection) -> list[str]:
    """One line per finding and per note, for a report or `--verbose`."""
    lines = [f"{f.file}: {f.evidence} -> {f.stack}" for f in detection.found]
    return lines + [f"note: {n}" for n in detection.notes]


def as_dict(detection: Detection) -> dict[str, Any]:
    stack, why = detection.stack()
    return {
        "stack": stack.id if stack else None,
        "why_not": why,
        "found": [vars(f) for f in detection.found],
        "engines": list(detection.engines),
        "notes": list(detection.notes),
    }
