# Build entry point. The README's two commands:
#   make book   install what the book needs, execute every chapter in full mode, write _build/html
#   make test   unit tests + nbval over every chapter, in quick mode
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

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

.PHONY: book test install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e ".[medical,widgets,test,book]"
	touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	MEDIMGKIT_QUICK=0 $(BIN)/jupyter-book build . --warningiserror --keep-going

test: $(STAMP)
	MEDIMGKIT_QUICK=1 $(BIN)/python -m pytest tests book \
		--nbval-lax --nbval-current-env --nbval-cell-timeout=900 \
		--durations=25

clean:
	rm -rf _build
