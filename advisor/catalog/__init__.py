"""The check and provider catalogs: data files read by the CLI, the site and the browser tools."""

from .checks import DOCS_BASE, docs_url, load_checks

__all__ = ["DOCS_BASE", "docs_url", "load_checks"]
