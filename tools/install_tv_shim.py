"""Install (or remove) the torchvision import hook into the running interpreter's site-packages.

Run it with the environment's own python, after ``pip install``::

    .venv/bin/python tools/install_tv_shim.py            # install + check `import torchvision`
    .venv/bin/python tools/install_tv_shim.py --uninstall

It copies ``tools/_tv_cpu_shim.py`` to site-packages and writes ``zz_tv_cpu_shim.pth``
(one line, ``import _tv_cpu_shim``), so every interpreter of the environment --
Jupyter kernels, nbval, Jupyter Book execution -- gets the hook. The hook first tries
torchvision's real compiled extension, so it is harmless where that loads (CUDA
torch, macOS, Windows). See the module docstring of ``_tv_cpu_shim`` for the why.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULE = "_tv_cpu_shim"
PTH = "zz_tv_cpu_shim.pth"

CHECK = (
    "import importlib.util, sys\n"
    "if importlib.util.find_spec('torchvision') is None:\n"
    "    print('torchvision is not installed: nothing to check'); sys.exit(0)\n"
    "import torch, torchvision, _tv_cpu_shim\n"
    "print(f'torch {torch.__version__} | torchvision {torchvision.__version__} | '\n"
    "      f'ops: {_tv_cpu_shim.status}')\n"
)


def site_packages() -> Path:
    return Path(sysconfig.get_paths()["purelib"])


def install(site: Path) -> None:
    shutil.copyfile(HERE / f"{MODULE}.py", site / f"{MODULE}.py")
    (site / PTH).write_text(f"import {MODULE}\n")
    print(f"installed {MODULE} import hook into {site}")


def uninstall(site: Path) -> None:
    for name in (f"{MODULE}.py", PTH):
        (site / name).unlink(missing_ok=True)
    print(f"removed {MODULE} import hook from {site}")


def check() -> int:
    """Import torchvision in a fresh interpreter (the .pth is only read at start-up)."""
    proc = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-3000:])
        sys.stderr.write("`import torchvision` still fails with the hook installed: check that torch and "
                         "torchvision versions match (requirements.txt pins torch==2.13.0+cpu, torchvision==0.28.0)\n")
    return proc.returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--uninstall", action="store_true", help="remove the hook")
    group.add_argument("--check", action="store_true", help="only check that `import torchvision` works")
    args = parser.parse_args(argv)
    site = site_packages()
    if args.uninstall:
        uninstall(site)
        return 0
    if not args.check:
        install(site)
    return check()


if __name__ == "__main__":
    sys.exit(main())
