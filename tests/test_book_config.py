"""tools/book_config.py: the cached build's jupyter-cache folder changes with the package, the
records and the preset, and nothing else of the config changes."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("book_config", ROOT / "tools" / "book_config.py")
book_config = importlib.util.module_from_spec(spec)
spec.loader.exec_module(book_config)


def _fake_root(tmp_path: Path) -> Path:
    (tmp_path / "ebjepa_mini" / "planning").mkdir(parents=True)
    (tmp_path / "ebjepa_mini" / "planning" / "a.py").write_text("x = 1\n")
    (tmp_path / "bench" / "results").mkdir(parents=True)
    (tmp_path / "bench" / "results" / "r.json").write_text("{}\n")
    (tmp_path / "chapters").mkdir()
    (tmp_path / "_config.yml").write_text((ROOT / "_config.yml").read_text())
    return tmp_path


def test_cache_key_follows_package_and_records_not_chapters(tmp_path):
    root = _fake_root(tmp_path)
    h0 = book_config.inputs_hash(root)
    (root / "chapters" / "01.py").write_text("# a chapter edit: jupyter-cache itself sees it\n")
    assert book_config.inputs_hash(root) == h0
    (root / "ebjepa_mini" / "planning" / "a.py").write_text("x = 2\n")
    h1 = book_config.inputs_hash(root)
    assert h1 != h0
    (root / "bench" / "results" / "r.json").write_text('{"success_rate": 0.9}\n')
    assert book_config.inputs_hash(root) not in (h0, h1)


def test_cached_config_differs_only_in_execution(tmp_path, monkeypatch):
    root = _fake_root(tmp_path)
    monkeypatch.setenv("EBJEPA_PRESET", "ci")
    out = book_config.write_config(root)
    before = (root / "_config.yml").read_text().splitlines()
    after = out.read_text().splitlines()
    removed = [line for line in before if line not in after]
    added = [line for line in after if line not in before]
    assert removed == ["  execute_notebooks: force"]
    assert added[0] == "  execute_notebooks: cache"
    assert added[1].startswith("  cache: ") and f"ci-{book_config.inputs_hash(root)}" in added[1]
