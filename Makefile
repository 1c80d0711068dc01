# PEP Voice. `make run` sets everything up and starts the product; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.SHELLFLAGS := -eu -o pipefail -c
# Every recipe's bash runs with umask 077 first, so what make creates under var/ is private.
export BASH_ENV := $(CURDIR)/scripts/private-umask.sh
# Development defaults for `make run` / `make test`: a generated key in var/ is allowed here,
# never in production (bot/settings.py).
export ENVIRONMENT ?= development

APP_PY := .venv/app/bin/python
ENGINE := .venv/engine/bin
# The engine imports the project's own NLU components from pep_nlp/.
ENGINE_ENV := PYTHONPATH=$(CURDIR) TF_CPP_MIN_LOG_LEVEL=2 PYTHONWARNINGS=ignore::DeprecationWarning \
  RASA_TELEMETRY_ENABLED=false
RASA := $(ENGINE_ENV) $(ENGINE)/rasa
RASA_PY := $(ENGINE_ENV) $(ENGINE)/python

# The model is named after a hash of everything it is trained from, so an unchanged bot is
# never retrained and a changed one always is. Of pep_nlp/, that is the spaCy pipeline: the
# project's own components (rasa_components.py: the safeguarding screen, the control gate,
# their data files) are untrained and built when the engine starts, so changing them needs
# no retraining. The trainable one, the intent classifier, is listed with what it reads.
TRAINED_PEP_NLP := pep_nlp/__init__.py pep_nlp/pipeline.py pep_nlp/build_package.py \
  pep_nlp/data/entity_patterns.jsonl pep_nlp/intent_model.py pep_nlp/spelling.py \
  pep_nlp/vocabulary.py pep_nlp/data/common_words.tsv
MODEL_INPUTS := config.yml $(shell find domain -type f 2>/dev/null | sort) $(TRAINED_PEP_NLP) \
  $(shell find nlu_data stories -type f -name '*.yml' 2>/dev/null | sort)
MODEL_HASH := $(shell cat $(MODEL_INPUTS) 2>/dev/null | sha256sum | cut -c1-12)
MODEL := models/pep-voice-$(MODEL_HASH).tar.gz
SPACY_HASH := $(shell cat pep_nlp/pipeline.py pep_nlp/build_package.py pep_nlp/data/entity_patterns.jsonl requirements/engine.lock | sha256sum | cut -c1-12)
SPACY_STAMP := .venv/engine/.spacy-model-$(SPACY_HASH)

.PHONY: screenshots help setup app-env engine-env spacy-model train migrate seed run chat test test-data test-stories test-py lint bench clean

help:
	@echo "make run    set up (first time: several minutes), train if needed, migrate, seed a demo, start everything"
	@echo "make test   lint, validate the training data, test the stories, run pytest (trains if needed)"
	@echo "make chat   talk to the running bot in this terminal as the demo child"

setup: private-var app-env engine-env spacy-model

# var/ holds children's words: private to this user, including what an older checkout made.
.PHONY: private-var
private-var:
	@mkdir -p var && chmod -R go-rwx var

app-env:
	@scripts/setup-venv.sh .venv/app "$$(scripts/find-python.sh 3.11 PYTHON311)" requirements/app.lock .

# Rasa ships write keys for its usage analytics and its crash reporting (Sentry), and starts
# the crash reporting even with telemetry off: without the keys file neither can send anything.
engine-env:
	@scripts/setup-venv.sh .venv/engine "$$(scripts/find-python.sh 3.10 PYTHON310)" requirements/engine.lock
	@rm -f .venv/engine/lib/python3.10/site-packages/rasa/keys

spacy-model: engine-env $(SPACY_STAMP)

$(SPACY_STAMP):
	@echo "==> Building the en_pep_voice spaCy pipeline from source"
	@rm -f .venv/engine/.spacy-model-*
	@sdist=$$(PYTHONPATH=$(CURDIR) TF_CPP_MIN_LOG_LEVEL=3 $(ENGINE)/python -m pep_nlp.build_package var/build/spacy 2>/dev/null | tail -n 1) && \
	  $(ENGINE)/python -m pip install --quiet --disable-pip-version-check --no-deps --force-reinstall "$$sdist"
	@chmod -R go-rwx var/build  # setuptools writes PKG-INFO 0644 whatever the umask
	@touch $@

# models/current.tar.gz follows the model of this checkout, even one trained before.
train: setup $(MODEL)
	@ln -sf pep-voice-$(MODEL_HASH).tar.gz models/current.tar.gz

$(MODEL):
	@echo "==> Training the engine (under a minute; only when what it learns from changed)"
	@mkdir -p var; start=$$(date +%s); \
	  $(RASA) train --force --data nlu_data stories --config config.yml --domain domain \
	    --out models --fixed-model-name pep-voice-$(MODEL_HASH) --quiet > var/train.log 2>&1 \
	  || { tail -n 40 var/train.log >&2; echo "error: training failed (whole log: var/train.log)" >&2; exit 1; }; \
	  echo "==> Trained $(MODEL) in $$(( $$(date +%s) - start )) s (log: var/train.log)"

# domain/questions.yml: the question slots, the form and action_ask_<key>, from bot/questions.py.
.PHONY: domain
domain: app-env
	@$(APP_PY) scripts/make_domain.py

migrate: app-env
	@$(APP_PY) -m bot migrate

seed: migrate
	@$(APP_PY) -m bot seed-demo | tee var/demo.txt

run: setup train seed
	@echo
	@echo "==> Starting the engine (it answers within about a minute), the action server and the app."
	@echo "    Web chat for the demo child: $$(cat var/demo-link) (or type the code $$(cat var/demo-invite))"
	@echo "    Or, in another terminal, run 'make chat' to talk to the bot here."
	@echo "    Staff review app: $$(head -1 var/demo-logins) (demo logins in var/demo-logins)"
	@echo "    Stop everything with Ctrl-C."
	@.venv/app/bin/honcho start -f Procfile

chat: app-env
	@$(APP_PY) -m bot.terminal_chat

test: setup train lint test-data test-stories web-test-deps test-py

# The web chat's browser tests: Debian's Chromium (never a browser download) and axe-core;
# the export tests: pdftotext (poppler-utils) and the DejaVu font the PDF export embeds.
.PHONY: web-test-deps
web-test-deps:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	@test -x /usr/bin/pdftotext -a -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils fonts-dejavu-core; }
	@test -f var/node/node_modules/axe-core/axe.min.js || npm install --prefix var/node --no-audit --no-fund --no-save --silent axe-core@4

# Refresh the screenshots in docs/screenshots: the web chat (phone 390x844, tablet 820x1180)
# and every staff review page (review-*.png: phone 390x844, desktop 1280x900, full page).
screenshots: train web-test-deps
	@PEP_VOICE_SCREENSHOTS=$(CURDIR)/docs/screenshots .venv/app/bin/pytest -q tests/integration/test_webchat.py
	@PEP_VOICE_SCREENSHOTS=$(CURDIR)/docs/screenshots .venv/app/bin/pytest -q tests/review/test_chromium_walk.py

test-data:
	@scripts/validate-data.sh
	@scripts/check-generated.sh

test-stories:
	@$(RASA) test core --stories tests/test_stories.yml --model $(MODEL) --out var/results --fail-on-prediction-errors --quiet

test-py:
	@PEP_VOICE_MODEL=$(MODEL) .venv/app/bin/pytest -q

lint: app-env
	@.venv/app/bin/ruff check .
	@.venv/app/bin/ruff format --check .
	@.venv/app/bin/mypy bot actions pep_nlp pep_engine
	@# The layer contracts in pyproject.toml; the report is printed only when one is broken.
	@.venv/app/bin/lint-imports --no-cache > var/lint-imports.txt 2>&1 \
	  || { cat var/lint-imports.txt; exit 1; }
	@echo "import contracts kept (pyproject.toml [tool.importlinter])"

# The figures in docs/benchmarks.md (not part of `make test`; ~40 minutes, most of it the
# peer: Rasa's default configuration trained on the same data, bench/train_peer.sh). Raw
# figures go to var/bench/*.json, plots to var/bench/plots/; docs/benchmarks.md says which
# were copied into docs/bench/.
BENCH := var/bench
bench: train
	@mkdir -p $(BENCH)
	@$(APP_PY) bench/engine_baseline.py --runs 3 | tee $(BENCH)/engine-pep-voice.json
	@$(RASA_PY) bench/nlu_sets.py --model $(MODEL) --json $(BENCH)/nlu-pep-voice.json
	@$(RASA_PY) bench/nlu_cv.py
	@$(APP_PY) bench/safeguarding_eval.py
	@$(RASA_PY) bench/safeguarding_system_eval.py --model $(MODEL)
	@$(APP_PY) bench/blind_eval.py --json docs/blind_screen.json
	@$(RASA_PY) bench/blind_eval.py --model $(MODEL) --json docs/blind_engine.json
	@$(APP_PY) bench/full_stack.py --model $(MODEL) --label pep-voice --turns 64 \
	  --json $(BENCH)/full_stack-pep-voice.json --plots $(BENCH)/plots
	@$(APP_PY) bench/full_stack.py --model $(MODEL) --label pep-voice-typing --turns 64 \
	  --think 3 --concurrency 10 20 --via web --json $(BENCH)/full_stack-pep-voice-typing.json
	@peer=$$(bench/train_peer.sh) && \
	  $(APP_PY) bench/engine_baseline.py --model "$$peer" --runs 3 | tee $(BENCH)/engine-peer.json && \
	  $(RASA_PY) bench/nlu_sets.py --model "$$peer" --label peer --json $(BENCH)/nlu-peer.json && \
	  $(APP_PY) bench/full_stack.py --model "$$peer" --label peer --turns 64 \
	    --json $(BENCH)/full_stack-peer.json --plots $(BENCH)/plots
	@$(APP_PY) bench/full_stack.py --model "$$(bench/train_peer.sh)" --label peer-typing \
	  --turns 64 --think 3 --concurrency 10 --via web --json $(BENCH)/full_stack-peer-typing.json
	@$(APP_PY) bench/plots.py compare $(BENCH)/full_stack-pep-voice.json \
	  $(BENCH)/full_stack-peer.json --out $(BENCH)/plots
	@$(APP_PY) bench/tables.py --dir $(BENCH)

clean:
	rm -rf models var/build var/results
