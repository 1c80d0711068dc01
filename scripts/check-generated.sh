#!/usr/bin/env bash
# Generated data must match its generators: the classifier's misspelled training examples
# and the safeguarding screen's misspellings both come from the children's spelling corpora
# in ../shared/data/spelling (beside the repository, as in CI).
set -euo pipefail
# The question part of the Rasa domain comes from the question catalogue (bot/questions.py).
PYTHONWARNINGS=ignore .venv/app/bin/python scripts/make_domain.py --check
# The common English words the spelling readers use, from spacy-lookups-data.
PYTHONWARNINGS=ignore .venv/app/bin/python -m pep_nlp.vocabulary --check
corpora="$(cd "$(dirname "$0")/../.." && pwd)/shared/data/spelling"
if [ ! -d "$corpora" ]; then
  echo "error: the spelling corpora are missing ($corpora); generated data cannot be checked." >&2
  echo "       Clone the repository beside shared/ (as CI does), or link it there:" >&2
  echo "       ln -s /path/to/shared \"$(dirname "$(dirname "$corpora")")\"" >&2
  exit 1
fi
PYTHONWARNINGS=ignore .venv/engine/bin/python scripts/make_misspellings.py --check
PYTHONWARNINGS=ignore .venv/app/bin/python scripts/make_spelling_variants.py --check
# The misspelled twins of the held-out sets (their misspellings avoid every training word).
PYTHONWARNINGS=ignore .venv/engine/bin/python bench/misspell_heldout.py --check bench/data/nlu_heldout*.yml
