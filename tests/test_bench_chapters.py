"""`bench chapters` executes notebooks under a preset and records per-chapter wall time and failures."""
import json

import nbformat
import pytest

from ebjepa_mini import bench


def _notebook(path, source):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def test_bench_chapters_records_time_preset_and_failures(tmp_path, monkeypatch):
    _notebook(tmp_path / "01_ok.ipynb",
              "import os\nassert os.environ['EBJEPA_PRESET'] == 'ci', os.environ.get('EBJEPA_PRESET')")
    _notebook(tmp_path / "02_broken.ipynb", "raise RuntimeError('chapter is broken')")
    _notebook(tmp_path / "notes.ipynb", "raise SystemExit('not a chapter: never executed')")
    monkeypatch.setenv("EBJEPA_PRESET", "cpu")
    out = bench.bench_chapters("ci", chapters_dir=tmp_path, timeout=120)
    assert [r["name"] for r in out["results"]] == ["01_ok", "02_broken"]
    ok, broken = out["results"]
    assert ok["ok"] and ok["error"] is None and ok["wall_s"] > 0
    assert not broken["ok"] and "chapter is broken" in broken["error"]
    assert out["ok"] is False and out["preset"] == "ci"
    import os
    assert os.environ["EBJEPA_PRESET"] == "cpu"            # restored after the run
    json.dumps(out)                                         # a storable record


def test_bench_chapters_needs_notebooks(tmp_path):
    with pytest.raises(FileNotFoundError, match="NN_"):
        bench.bench_chapters("ci", chapters_dir=tmp_path)
