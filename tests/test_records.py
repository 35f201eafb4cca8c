"""Stored records and model cards name no folder of the machine that made them, and say how they measured.

``ebjepa_mini.records.write_json`` writes absolute paths repository-relative (or as a file name when the
file lay outside the repository); these tests fail when a committed record or card still holds one,
and when the writer lets one through.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ebjepa_mini.records import machine_paths, repo_relative, without_machine_paths, write_json

ROOT = Path(__file__).resolve().parents[1]
STORED = sorted((ROOT / "bench" / "results").rglob("*.json")) + sorted((ROOT / "ebjepa_mini" / "assets").glob("*.json"))
MACHINE_FOLDERS = ("/home/", "/root/", "/tmp/", "/work/", "/Users/", "/mnt/", "/private/", "/var/folders/")


def strings(obj):
    """Every string (values and keys) inside a JSON object."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings(v)


def test_there_are_records_and_cards_to_check():
    assert any(p.parent.name == "archive" for p in STORED) and any(p.parent.name == "assets" for p in STORED)


@pytest.mark.parametrize("path", STORED, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_stored_record_or_card_names_no_path_of_the_machine_that_made_it(path):
    rec = json.loads(path.read_text())
    found = machine_paths(rec) + [s for s in strings(rec) if s.startswith("/") or any(f in s for f in MACHINE_FOLDERS)]
    assert not found, f"{path.relative_to(ROOT)} names absolute paths {found}: rewrite them with records.repo_relative"


@pytest.mark.parametrize("path", STORED, ids=lambda p: str(p.relative_to(ROOT)))
def test_a_stored_record_is_in_the_writers_format(path):
    """Records are written by ``write_json`` (indent 1, one trailing newline): a hand edit keeps that format."""
    text = path.read_text()
    assert json.dumps(json.loads(text), indent=1) + "\n" == text


@pytest.mark.parametrize("given, stored", [
    ("/tmp/exp/models/no-std.pt", "no-std.pt"),                                     # outside the repository: the name
    ("/home/someone/clone/ebjepa_mini/assets/world_model_cpu.pt", "ebjepa_mini/assets/world_model_cpu.pt"),
    ("/home/someone/ebjepa_mini/ebjepa_mini/assets/x.pt", "ebjepa_mini/assets/x.pt"),  # a clone named like the package
    ("/srv/ci/repo/bench/results/archive/w.json", "bench/results/archive/w.json"),
    (str(ROOT / "_build" / "html" / "index.html"), "_build/html/index.html"),           # this clone: relative to it
    ("bench/results/world_cpu.json", "bench/results/world_cpu.json"),               # already relative
])
def test_repo_relative(given, stored):
    assert repo_relative(given) == stored


def test_without_machine_paths_rewrites_paths_and_leaves_ratios_and_urls():
    rec = {"command": "python -m ebjepa_mini.bench world --checkpoint /tmp/exp/m.pt --out=/tmp/w.json",
           "data": "MNIST (/data/shared/mnist.npz)", "results": [{"name": "x", "note": "3.46 px/step, eq. 13/14, K1 / K4"}],
           "url": "https://github.com/a/b", "/tmp/k/y.txt": 1}
    out = without_machine_paths(rec)
    assert out["command"] == "python -m ebjepa_mini.bench world --checkpoint m.pt --out=w.json"
    assert out["data"] == "MNIST (mnist.npz)"
    assert out["results"][0]["note"] == rec["results"][0]["note"] and out["url"] == rec["url"]
    assert out["y.txt"] == 1 and "/tmp/k/y.txt" not in out
    assert machine_paths(out) == [] and machine_paths(rec) == ["/tmp/exp/m.pt", "/tmp/w.json", "/data/shared/mnist.npz",
                                                               "/tmp/k/y.txt"]
    assert rec["command"].startswith("python") and "/tmp/" in rec["command"]          # the input is not changed


def test_write_json_stores_no_machine_path(tmp_path):
    card = {"file": "m.pt", "record": str(tmp_path / "w.json"),
            "command": f"python -m ebjepa_mini.bench world --save-model {ROOT / 'ebjepa_mini' / 'assets' / 'm.pt'}"}
    path = write_json(tmp_path / "sub" / "m.json", card)
    text = path.read_text()
    assert json.loads(text) == {"file": "m.pt", "record": "w.json",
                                "command": "python -m ebjepa_mini.bench world --save-model ebjepa_mini/assets/m.pt"}
    assert text == json.dumps(json.loads(text), indent=1) + "\n" and str(tmp_path) not in text


def test_records_measured_with_the_earlier_drift_definition_say_so():
    """``drift_px_*`` moved from door plans to held-out random walks (commit e129a57); the records made
    before it carry ``drift_measured_on`` (the results page prints it beside their numbers) and a note."""
    marked = {}
    for path in sorted((ROOT / "bench" / "results").rglob("*.json")):
        rec = json.loads(path.read_text())
        if "drift_measured_on" in rec:
            marked[path.stem] = rec
    assert {"world_cem_cpu", "world_last_cpu", "world_cpu-refplan"} <= set(marked)
    for name, rec in marked.items():
        assert rec["drift_measured_on"] == "door plans", name
        assert any(k.startswith("drift_px_") for r in rec["results"] for k in r), name
        assert "earlier definition" in rec.get("note", ""), name
