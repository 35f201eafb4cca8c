"""Shared set-up for the browser tests (``make browser-test``; not part of ``make test``).

The tests drive Debian's Chromium (``/usr/bin/chromium``, installed by ``.ci/run`` with apt)
through Playwright's Python sync API. Playwright's own browser download (``playwright install``)
is never used: it fails offline, and CI must not fetch browsers.

* ``EBJEPA_CHROMIUM``: the browser binary (default ``/usr/bin/chromium``).
* ``EBJEPA_BOOK_HTML``: the built book to test (default ``_build/html``, written by ``make book``).
* ``EBJEPA_BROWSER_REQUIRED=1`` (set by ``make browser-test``): a missing browser, Playwright or
  built book FAILS the tests instead of skipping them, so CI cannot pass by skipping.

Every page gets a fresh browser context whose network is limited to 127.0.0.1/localhost: any
other request is aborted and recorded (the book must render offline), see :class:`Recorder`.
Screenshots go to ``artifacts/screenshots/`` (git-ignored).
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = os.environ.get("EBJEPA_CHROMIUM", "/usr/bin/chromium")
# The flags this machine's notes prescribe: headless, no sandbox (CI runs as root), and no
# background traffic to Google's hosts (the network is closed except for package registries).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
VIEWPORT = {"width": 1280, "height": 900}


def _required() -> bool:
    return os.environ.get("EBJEPA_BROWSER_REQUIRED", "") not in ("", "0", "false", "no")


def missing(reason: str):
    """Fail under ``make browser-test`` (EBJEPA_BROWSER_REQUIRED=1), skip otherwise."""
    if _required():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float, proc: subprocess.Popen | None = None, what: str = "server") -> None:
    """Poll ``url`` until it answers (any HTTP status), the process dies, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except (urllib.error.URLError, OSError) as err:
            last = err
        time.sleep(0.25)
    raise RuntimeError(f"{what} did not answer {url} within {timeout:.0f} s (last error: {last})")


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """Terminate a process we started (its own process group), then kill it if it lingers."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, 15)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)
        proc.wait(timeout=timeout)


# --------------------------------------------------------------------------------------------------
# the built book, served on 127.0.0.1
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def book_html() -> Path:
    path = Path(os.environ.get("EBJEPA_BOOK_HTML", ROOT / "_build" / "html")).resolve()
    if not (path / "index.html").is_file():
        missing(f"no built book at {path} (run `EBJEPA_PRESET=ci make book` first; `make browser-test` does)")
    return path


@pytest.fixture(scope="session")
def book_url(book_html: Path):
    """Base URL of ``python -m http.server`` serving the built book on 127.0.0.1 and a free port."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                             "--directory", str(book_html)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_for_http(base + "index.html", 30, proc, "python -m http.server")
        yield base
    finally:
        stop_process(proc)


# --------------------------------------------------------------------------------------------------
# the browser
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the Python package `playwright` is not installed (it is pinned in requirements.txt)")
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).is_file()):
        missing(f"no Chromium at {CHROMIUM} (Debian: `apt-get install -y chromium`; .ci/run does this)")
    with sync_playwright() as pw:
        # Playwright gives every launch a fresh, temporary --user-data-dir.
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Recorder:
    """Everything a page did that a test may want to assert on."""

    requests: list = field(default_factory=list)        # (resource type, url) of every request
    blocked: list = field(default_factory=list)         # (resource type, url) aborted: not localhost
    failed: list = field(default_factory=list)          # (resource type, url, error) local failures
    http_errors: list = field(default_factory=list)     # (resource type, url, status) local, status >= 400
    page_errors: list = field(default_factory=list)     # uncaught JS exceptions
    console_errors: list = field(default_factory=list)  # console.error messages

    def non_local(self, types=None):
        return [(t, u) for t, u in self.blocked if types is None or t in types]


def is_local(url: str) -> bool:
    p = urlparse(url)
    if p.scheme in ("data", "blob", "about", "file"):
        return True
    return p.hostname in LOCAL_HOSTS


@pytest.fixture
def context(browser):
    """A fresh browser context; its network is 127.0.0.1 only (others are aborted and recorded)."""
    ctx = browser.new_context(viewport=VIEWPORT, ignore_https_errors=False)
    rec = Recorder()

    def route(r):
        req = r.request
        if is_local(req.url):
            r.continue_()
        else:
            rec.blocked.append((req.resource_type, req.url))
            r.abort("blockedbyclient")

    ctx.route("**/*", route)
    ctx.on("request", lambda req: rec.requests.append((req.resource_type, req.url)))
    ctx.on("requestfailed", lambda req: rec.failed.append((req.resource_type, req.url, req.failure))
           if is_local(req.url) else None)
    ctx.on("response", lambda resp: rec.http_errors.append((resp.request.resource_type, resp.url, resp.status))
           if resp.status >= 400 and is_local(resp.url) else None)
    ctx.recorder = rec
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def page(context):
    pg = context.new_page()
    rec = context.recorder
    pg.on("pageerror", lambda err: rec.page_errors.append(str(err)))
    pg.on("console", lambda msg: rec.console_errors.append(msg.text) if msg.type == "error" else None)
    pg.recorder = rec
    return pg


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# --------------------------------------------------------------------------------------------------
# JupyterLab, for live widgets
# --------------------------------------------------------------------------------------------------
@pytest.fixture
def jupyter_lab(tmp_path):
    """Factory: ``jupyter_lab({"name.ipynb": "code"})`` starts JupyterLab and returns its details.

    The server listens on 127.0.0.1 (free port) with a random token; its root is a temporary copy
    of chapters/ plus the given one-cell notebooks; EBJEPA_PRESET=ci; Jupyter/IPython config and
    state live in tmp_path (the user's own are not read). Nothing is fetched from the internet (no
    news feed, no update check, no PyPI extension manager). Returns a dict with ``base``, ``token``,
    ``root``, ``log`` (the server log file) and ``startup_s``. The server and its kernels are shut
    down at the end of the test.
    """
    servers = []

    def start(notebooks: dict[str, str]) -> dict:
        t0 = time.monotonic()
        root = tmp_path / "chapters"
        shutil.copytree(ROOT / "chapters", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        for name, source in notebooks.items():
            nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "cell-1", "metadata": {},
                             "outputs": [], "source": source}],
                  "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                              "language": "python"},
                               "language_info": {"name": "python"}},
                  "nbformat": 4, "nbformat_minor": 5}
            (root / name).write_text(json.dumps(nb, indent=1))
        for d in ("config", "runtime", "settings", "workspaces", "ipython"):
            (tmp_path / d).mkdir(exist_ok=True)
        env = dict(os.environ)
        env.update({
            "EBJEPA_PRESET": "ci", "EBJEPA_THREADS": env.get("EBJEPA_THREADS", "2"),
            # the venv's bin first: the python3 kernelspec runs `python -m ipykernel_launcher`
            "PATH": str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
            "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
            "IPYTHONDIR": str(tmp_path / "ipython"),
        })
        env.pop("MPLBACKEND", None)  # let the kernel pick its inline backend
        port, token = free_port(), secrets.token_hex(16)
        log_path = tmp_path / "jupyterlab.log"
        log = open(log_path, "w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
             f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
             f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}", "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
             "--LabApp.extension_manager=readonly"],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        server = {"base": base, "token": token, "root": root, "log": log_path, "proc": proc, "logfile": log}
        servers.append(server)
        try:
            wait_for_http(f"{base}/api/status?token={token}", 60, proc, "jupyter lab")
        except RuntimeError as err:
            raise RuntimeError(f"{err}\n--- jupyter lab log ---\n{log_path.read_text()[-3000:]}") from None
        server["startup_s"] = time.monotonic() - t0
        return server

    yield start
    for server in servers:
        proc = server["proc"]
        try:  # a clean shutdown also stops the kernels (they run in their own process groups)
            req = urllib.request.Request(f"{server['base']}/api/shutdown", method="POST",
                                         headers={"Authorization": f"token {server['token']}"})
            urllib.request.urlopen(req, timeout=10).close()
            proc.wait(timeout=10)
        except Exception:
            pass
        stop_process(proc)
        server["logfile"].close()
