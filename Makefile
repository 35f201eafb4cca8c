# EB-JEPA Mini Book. On a fresh clone two commands are enough:
#   make book   -> creates .venv, installs, vendors the offline JS, executes the chapters (cached), builds _build/html
#   make test   -> installs if needed, runs pytest over tests/ and nbval over chapters/*.ipynb (EBJEPA_PRESET=ci)
# `make help` lists every target. Variables: TORCH=cpu|pypi, PYTHON, VENV, NBVAL_CELL_TIMEOUT, JB_FLAGS.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV ?= .venv
# cpu  = exact, tested pins from requirements.txt (torch==2.13.0+cpu, never CUDA wheels): CI, CPU-only Linux.
# pypi = `pip install -e .[book]` with loose ranges: keeps an installed torch (GPU machines, macOS).
TORCH ?= cpu
# Seconds per notebook cell under nbval. A chapter takes <= 90 s in total under the `ci`
# preset, so a single cell running 300 s means something is wrong.
NBVAL_CELL_TIMEOUT ?= 300
NBVAL_PRESET ?= ci
# -W: warnings are errors, -n: nitpicky references, --keep-going: report them all, --all: full rebuild.
JB_FLAGS ?= -W -n --keep-going --all
PYTEST_ARGS ?=
LAB_ARGS ?=

BIN := $(abspath $(VENV))/bin
PY := $(BIN)/python
STAMP := $(VENV)/.ebjepa-installed-$(TORCH)
VENDOR := book/_vendor

export PATH := $(BIN):$(PATH)
export VIRTUAL_ENV := $(abspath $(VENV))
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PIP_PROGRESS_BAR := off
# Absolute, so notebooks (which run in chapters/) and tests find the same data directory.
export EBJEPA_DATA ?= $(CURDIR)/data

ifeq ($(filter $(TORCH),cpu pypi),)
$(error TORCH must be 'cpu' or 'pypi', got '$(TORCH)')
endif

# pytest exits 5 when it collects no tests: not a failure for us (e.g. no chapters yet).
define run_pytest
$(1) || { rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest: no tests collected (exit 5), treated as success"; else exit $$rc; fi; }
endef

.PHONY: help install deps vendor book check-offline test unit nbval sync lab student clean distclean browser-test

help:
	@echo "make book      install if needed, vendor offline JS, execute chapters (cached; BOOK_EXECUTE=force), build _build/html"
	@echo "make test      install if needed, pytest tests/ + nbval chapters/*.ipynb (EBJEPA_PRESET=$(NBVAL_PRESET))"
	@echo "make browser-test  build the book (EBJEPA_PRESET=ci), check every page + live widgets in headless Chromium"
	@echo "make install   (re)install into $(VENV) (TORCH=$(TORCH); TORCH=pypi keeps an existing torch)"
	@echo "make sync      jupytext --sync chapters/*.py, then strip outputs from chapters/*.ipynb"
	@echo "make lab       start JupyterLab (widgets work; .py chapters open as notebooks)"
	@echo "make student   write student/*.ipynb without solutions"
	@echo "make clean     remove _build (distclean also removes $(VENV) and $(VENDOR))"

# TORCH=pypi venvs see the system site-packages, so a preinstalled (e.g. CUDA) torch is reused.
VENV_FLAGS := $(if $(filter pypi,$(TORCH)),--system-site-packages,)
$(PY):
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 10) <= v <= (3, 12) else \
	  f"Python 3.10-3.12 is required, {sys.executable} is {v[0]}.{v[1]}; run make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV_FLAGS) $(VENV)

install: | $(PY)
ifeq ($(TORCH),cpu)
	@echo "pip install -r requirements.txt  (exact CPU pins)"
	@$(PY) -m pip install -r requirements.txt || { echo; \
	  echo "hint: torch==2.13.0+cpu is not on PyPI. On Linux add the PyTorch CPU index:"; \
	  echo "      PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu make $(or $(MAKECMDGOALS),install)"; \
	  echo "      or keep your own torch with: make TORCH=pypi $(or $(MAKECMDGOALS),install)"; exit 1; }
	$(PY) -m pip install -e . --no-deps
else
	@# Keep whatever torch the environment already has: pin it as a constraint, so that an
	@# unpinned torchvision resolves to the matching release instead of upgrading torch.
	@$(PY) -c 'import torch; print("torch==" + torch.__version__)' > $(VENV)/torch-constraint.txt 2>/dev/null \
	  || : > $(VENV)/torch-constraint.txt
	$(PY) -m pip install -e '.[book]' -c $(VENV)/torch-constraint.txt
endif
	$(PY) tools/install_tv_shim.py
	@$(PY) -c 'import sys, torch, torchvision; \
	  print(f"torch {torch.__version__} | torchvision {torchvision.__version__} | python {sys.version.split()[0]}"); \
	  sys.exit(0 if "$(TORCH)" != "cpu" or torch.__version__.endswith("+cpu") else \
	           f"TORCH=cpu expects the +cpu torch build, found {torch.__version__}")'
	@rm -f $(VENV)/.ebjepa-installed-*
	@touch $(STAMP)

# Install only when the venv is missing or an install input changed.
$(STAMP): requirements.txt pyproject.toml tools/_tv_cpu_shim.py tools/install_tv_shim.py | $(PY)
	@$(MAKE) install TORCH=$(TORCH) VENV=$(VENV) PYTHON=$(PYTHON)

deps: $(STAMP)

vendor:
	@bash tools/vendor_js.sh $(VENDOR)

# BOOK_EXECUTE=cache (make book): a chapter re-runs only when its cells, the package, a stored
# record or the preset changed (tools/book_config.py keys the jupyter-cache folder by preset and
# a hash of ebjepa_mini/ and bench/results/). BOOK_EXECUTE=force re-runs every chapter (CI does).
BOOK_EXECUTE ?= cache
ifeq ($(filter $(BOOK_EXECUTE),cache force),)
$(error BOOK_EXECUTE must be 'cache' or 'force', got '$(BOOK_EXECUTE)')
endif

book: deps vendor
	@rm -rf _build/html   # no stale pages from an earlier build
	@# MPLBACKEND (e.g. Agg) would reach the kernels and replace the inline backend: no figures.
	@start=$$(date +%s); \
	if [ "$(BOOK_EXECUTE)" = cache ]; then cfg=$$($(PY) tools/book_config.py); else cfg=_config.yml; fi; \
	echo "make book: execute=$(BOOK_EXECUTE), config $$cfg"; \
	env -u MPLBACKEND $(BIN)/jupyter-book build . --config $$cfg $(JB_FLAGS); \
	echo "make book: built _build/html/index.html in $$(( $$(date +%s) - start )) s"
	@$(MAKE) check-offline

# The built pages must load MathJax, require.js and the widget manager from _static, not a CDN.
CDN_RE := (cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com)/[^"'\'' ]*(mathjax|require|html-manager)
check-offline:
	@if grep -rlE '$(CDN_RE)' _build/html --include='*.html'; then \
	  echo "ERROR: the pages above load MathJax/require.js/html-manager from a CDN"; exit 1; \
	else echo "offline check: no CDN script URLs for MathJax, require.js or html-manager in _build/html"; fi

# Both suites always run; the target fails if either failed.
test: deps
	@start=$$(date +%s); rc=0; \
	$(MAKE) unit || rc=1; mid=$$(date +%s); \
	$(MAKE) nbval || rc=1; end=$$(date +%s); \
	echo "make test: unit tests $$(( mid - start )) s, notebooks $$(( end - mid )) s"; exit $$rc

unit: deps
	@$(call run_pytest,$(PY) -m pytest --ignore=tests/browser $(PYTEST_ARGS))

nbval: deps
	@if compgen -G 'chapters/*.ipynb' >/dev/null; then \
	  $(call run_pytest,EBJEPA_PRESET=$(NBVAL_PRESET) $(PY) -m pytest chapters --nbval-lax --nbval-current-env \
	    --nbval-cell-timeout=$(NBVAL_CELL_TIMEOUT) --ignore=_build -p no:cacheprovider $(PYTEST_ARGS)); \
	else echo "nbval: no chapters/*.ipynb yet"; fi

# Headless Chromium (Debian's /usr/bin/chromium, never a downloaded browser) driven by Playwright:
# every page of the ci build (errors, figures, MathJax, static widgets, offline, navigation, search)
# and the Collapse Lab live in JupyterLab. Screenshots: artifacts/screenshots/ (git-ignored).
CHROMIUM ?= /usr/bin/chromium
browser-test: deps
	@command -v $(CHROMIUM) >/dev/null || { echo "browser-test: no Chromium at $(CHROMIUM)."; \
	  echo "  Debian/Ubuntu: apt-get install -y chromium   (or: make browser-test CHROMIUM=/path/to/chromium)"; exit 1; }
	@# MPLBACKEND (e.g. Agg from .ci/run) would reach the kernels and replace their inline backend:
	@# every plt.show() would then draw nothing, and the book would have no figures.
	@EBJEPA_PRESET=ci $(MAKE) book BOOK_EXECUTE=force
	@start=$$(date +%s); rc=0; \
	EBJEPA_PRESET=ci EBJEPA_BROWSER_REQUIRED=1 EBJEPA_CHROMIUM=$(CHROMIUM) \
	  $(PY) -m pytest tests/browser -m browser -p no:cacheprovider -rw $(PYTEST_ARGS) || rc=$$?; \
	echo "make browser-test: browser tests $$(( $$(date +%s) - start )) s (screenshots in artifacts/screenshots/)"; exit $$rc

sync: deps
	$(BIN)/jupytext --sync chapters/*.py
	$(BIN)/jupyter nbconvert --clear-output --inplace --log-level=WARN chapters/*.ipynb

lab: deps
	$(BIN)/jupyter lab $(LAB_ARGS)

student: deps
	$(PY) tools/make_student_notebooks.py

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV) $(VENDOR)
