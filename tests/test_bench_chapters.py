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


def test_seed_records_are_named_apart_and_read_as_one_spread(tmp_path):
    from ebjepa_mini.records import across_seeds, record_name

    assert record_name("video", "cpu") == "video_cpu.json"
    assert record_name("video", "cpu", seed=2) == "video_cpu-seed2.json"
    assert record_name("world", "cpu", ("cem", None), tag="k8", seed=1) == "world_cem_cpu-k8-seed1.json"
    for name, value in (("video_cpu", 0.25), ("video_cpu-seed1", 0.27), ("video_cpu-seed2", 0.20),
                        ("video_cpu-k8", 9.0), ("video_cpu-k8-seed1", 9.0), ("video_cpu-seedx", 9.0)):
        (tmp_path / f"{name}.json").write_text(json.dumps({"map": {"K4": value}}))
    s = across_seeds("video_cpu", lambda r: r["map"]["K4"], folder=tmp_path)
    assert s["seeds"] == [0, 1, 2] and s["values"] == [0.25, 0.27, 0.20] and s["n"] == 3
    assert s["mean"] == pytest.approx(0.24) and s["sd"] == pytest.approx(0.036056, abs=1e-6)
    assert (s["min"], s["max"]) == (0.20, 0.27)
    assert across_seeds("image_cpu", lambda r: r["x"], folder=tmp_path)["n"] == 0
