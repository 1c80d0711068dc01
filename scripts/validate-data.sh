#!/usr/bin/env bash
# `rasa data validate`, failing on every warning except one: responses that only custom
# actions utter (the validator cannot see them; tests/data/test_domain.py checks each is used).
set -euo pipefail
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
PYTHONPATH="$PWD" TF_CPP_MIN_LOG_LEVEL=2 PYTHONWARNINGS="ignore::DeprecationWarning" RASA_TELEMETRY_ENABLED=false \
  .venv/engine/bin/rasa data validate --data nlu_data stories --domain domain \
  --config config.yml >"$log" 2>&1 || status=$?
warnings=$(grep -E "UserWarning|WARNING" "$log" | grep -v "is not used in any story or rule" |
  grep -v "MovedIn20Warning" || true)
if [ "$status" -ne 0 ] || [ -n "$warnings" ]; then
  grep -v "is not used in any story or rule" "$log" | tail -n 40 >&2
  echo "error: rasa data validate found problems (above)." >&2
  exit 1
fi
echo "rasa data validate: OK"
