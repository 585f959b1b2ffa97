"""Load one of the site's MkDocs hooks (docs/hooks/*.py) as a module, as MkDocs does: the
hooks folder is not a package."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from tests.support.cli import ROOT


def load_hook(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"docs_hook_{name}", ROOT / "docs" / "hooks" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
