"""The catalog's JSON cache: same data as the TOML, invalidated when the file changes."""

import os

from advisor.catalog.loader import load_toml


def test_cache_returns_the_toml_data_and_follows_edits(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    source = tmp_path / "demo.toml"
    source.write_text('[A1]\ntitle = "first"\n')
    assert load_toml(source) == {"A1": {"title": "first"}}
    cached = list((tmp_path / "cache" / "pooling-advisor").glob("demo-*.json"))
    assert len(cached) == 1
    assert load_toml(source) == {"A1": {"title": "first"}}  # served from the cache
    source.write_text('[A1]\ntitle = "second, longer"\n')
    os.utime(source, ns=(1, 10**18))
    assert load_toml(source) == {"A1": {"title": "second, longer"}}


def test_unwritable_cache_falls_back_to_parsing(tmp_path, monkeypatch):
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    source = tmp_path / "demo.toml"
    source.write_text("x = 1\n")
    assert load_toml(source) == {"x": 1}
