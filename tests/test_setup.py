"""The environment and the book's wiring: torch/torchvision import, presets, table of contents."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

import ebjepa_mini

ROOT = Path(__file__).resolve().parents[1]
BOOK_SUFFIXES = (".md", ".ipynb", ".rst")


def test_torchvision_imports_on_this_torch():
    # A fresh interpreter, so the import runs exactly as in a notebook kernel (hook via .pth).
    code = ("import torch, torchvision; from torchvision.transforms import v2; "
            "x = v2.RandomResizedCrop(16)(torch.rand(3, 32, 32)); "
            "print(torch.__version__, torchvision.__version__, tuple(x.shape))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"`import torchvision` failed (run tools/install_tv_shim.py):\n{proc.stderr[-2000:]}"
    assert proc.stdout.strip().endswith("(3, 16, 16)")


def test_torchvision_nms_op_exists_and_is_correct():
    import torchvision  # noqa: F401  (defines torchvision::nms, real or via the CPU hook)

    boxes = torch.tensor([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10]], dtype=torch.float32)
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95])
    # box 3 (best) suppresses its twin 0 and box 1 (IoU 81/119 = 0.68); box 2 does not overlap
    assert torch.ops.torchvision.nms(boxes, scores, 0.5).tolist() == [3, 2]
    assert torch.ops.torchvision.nms(boxes, scores, 0.7).tolist() == [3, 1, 2]


def test_cpu_pins_when_requested():
    """requirements.txt pins the +cpu torch; a GPU machine installed with TORCH=pypi skips this."""
    pins = (ROOT / "requirements.txt").read_text()
    assert "torch==2.13.0+cpu" in pins and "torchvision==0.28.0" in pins
    if torch.version.cuda is None and torch.__version__.startswith("2.13.0"):
        assert torch.__version__.endswith("+cpu")


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(ValueError) as info:
        ebjepa_mini.get_preset("bogus")
    message = str(info.value)
    assert "bogus" in message
    for name in ("ci", "cpu", "gpu", "paper"):
        assert name in message


@pytest.mark.parametrize("name", ["ci", "cpu", "gpu", "paper"])
def test_preset_env_var_is_honoured(monkeypatch, name):
    monkeypatch.setenv("EBJEPA_PRESET", name)
    assert ebjepa_mini.get_preset().name == name


def test_bad_preset_env_var_names_the_variable(monkeypatch):
    monkeypatch.setenv("EBJEPA_PRESET", "laptop")
    with pytest.raises(ValueError, match="EBJEPA_PRESET"):
        ebjepa_mini.get_preset()


def test_every_experiment_picks_its_device_with_get_device(monkeypatch):
    """One device helper: an explicit device wins, else ``EBJEPA_DEVICE``; bad values are named."""
    from ebjepa_mini.collapse import CollapseExperiment
    from ebjepa_mini.image import ImageExperiment
    from ebjepa_mini.video import VideoExperiment

    assert ebjepa_mini.get_device(torch.device("cpu")) == torch.device("cpu")
    monkeypatch.setenv("EBJEPA_DEVICE", "cpu")
    assert ebjepa_mini.get_device() == torch.device("cpu")
    with pytest.raises(ValueError, match="device"):
        ebjepa_mini.get_device("tpu")
    with pytest.raises(TypeError, match="device"):
        ebjepa_mini.get_device(0)
    for cls in (CollapseExperiment, ImageExperiment, VideoExperiment):
        with pytest.raises(ValueError, match="device"):       # validated before any data is loaded
            cls("ci", device="tpu")


def _toc_files(node):
    """Yield every `file:` entry of a sphinx-external-toc tree (root, parts, chapters, sections)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("file", "root") and isinstance(value, str):
                yield value
            else:
                yield from _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            yield from _toc_files(item)


def _resolve(entry: str) -> list[Path]:
    path = ROOT / entry
    if path.suffix in BOOK_SUFFIXES:
        return [path] if path.exists() else []
    return [path.with_suffix(s) for s in BOOK_SUFFIXES if path.with_suffix(s).exists()]


def test_toc_lists_only_existing_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    entries = list(_toc_files(toc))
    assert entries[0] == "book/intro" and len(entries) > 1
    missing = [e for e in entries if not _resolve(e)]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"
    for entry in entries:
        if entry.startswith("chapters/"):
            # The page is the stripped .ipynb (Colab opens it); the .py is its jupytext source.
            found = _resolve(entry)
            assert [p.suffix for p in found] == [".ipynb"], f"{entry}: expected exactly one page source, the .ipynb"
            assert (ROOT / entry).with_suffix(".py").exists(), f"{entry}.py (jupytext source) is missing"


def test_config_builds_offline_and_strictly():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())
    sphinx = cfg["sphinx"]["config"]
    assert cfg["execute"]["execute_notebooks"] == "force"
    assert sphinx["nb_execution_raise_on_error"] is True
    assert not str(sphinx["mathjax_path"]).startswith("http")
    assert all(not k.startswith("http") for k in sphinx["nb_ipywidgets_js"])
    assert "chapters/*.py" in cfg["exclude_patterns"]


def test_installed_version_comes_from_the_package():
    from importlib.metadata import version

    assert version("ebjepa-mini") == ebjepa_mini.__version__


def test_sources_are_not_git_ignored():
    """A file git ignores never reaches a fresh clone (CI): e.g. a `data/` rule hiding ebjepa_mini/data/."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    patterns = ["ebjepa_mini/**/*.py", "chapters/*.py", "chapters/*.ipynb", "book/*.md", "book/*.bib",
                "tools/*", "tests/*.py", "data_scripts/*.py", "bench/**/*.json"]
    files = sorted({str(p.relative_to(ROOT)) for pattern in patterns for p in ROOT.glob(pattern)
                    if p.is_file() and "__pycache__" not in p.parts})
    proc = subprocess.run(["git", "check-ignore", "--stdin"], input="\n".join(files), cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr
    ignored = proc.stdout.split()
    assert not ignored, f"git ignores these source files (fix .gitignore): {ignored}"


def test_command_line_overrides_are_typed_start_from_the_preset_and_name_bad_input():
    from dataclasses import replace

    from ebjepa_mini.presets import PlanSettings, get_preset, parse_overrides

    world = replace(get_preset("cpu").world, weights=replace(get_preset("cpu").world.weights, variance=5.0))
    out = parse_overrides(["latent_dim=128", "fixed_wall=false", "stacks=4,8", "weights.idm=0"], world, "--world-set")
    assert out["latent_dim"] == 128 and out["fixed_wall"] is False and out["stacks"] == (4, 8)
    assert out["weights"] == replace(world.weights, idm=0.0)        # the other weights stay the given settings'
    assert parse_overrides(["num_iters=20"], PlanSettings, "--plan-set") == {"num_iters": 20}
    with pytest.raises(ValueError, match=r"--world-set takes FIELD=VALUE with FIELD one of .*latent_dim"):
        parse_overrides(["latent=3"], world, "--world-set")
    with pytest.raises(ValueError, match="--plan-set num_iters: cannot read 'many' as int"):
        parse_overrides(["num_iters=many"], PlanSettings, "--plan-set")
