#!/usr/bin/env bash
# Train the peer model for bench/full_stack.py: Rasa's default configuration
# (bench/peer_config.yml) on the same nlu_data, stories and domain as the product's model.
# Prints the model's path; an unchanged peer is not trained again.
#
#     bench/train_peer.sh        # then: .venv/app/bin/python bench/full_stack.py --model <path> --label peer
#
# Not part of `make train` or `make test`. Up to half an hour on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077

inputs=(bench/peer_config.yml)
while IFS= read -r file; do inputs+=("$file"); done < <(
  { find domain -type f; find nlu_data stories -type f -name '*.yml'; } | sort
)
hash=$(cat "${inputs[@]}" | sha256sum | cut -c1-12)
name="peer-$hash"
model="var/bench/$name.tar.gz"
if [[ -f $model ]]; then
  echo "$model"
  exit 0
fi

mkdir -p var/bench
log="var/bench/$name.train.log"
# No PYTHONPATH: the project's own components (pep_nlp) cannot be imported, so none can be
# trained in by mistake. The engine still runs the peer with the project's channel and
# action server (bot.engine_launch), as it runs the product's model.
echo "==> Training the peer ($model; log: $log)" >&2
if ! env -u PYTHONPATH TF_CPP_MIN_LOG_LEVEL=2 PYTHONWARNINGS=ignore::DeprecationWarning \
    RASA_TELEMETRY_ENABLED=false \
    .venv/engine/bin/rasa train --data nlu_data stories --config bench/peer_config.yml \
    --domain domain --out var/bench --fixed-model-name "$name" --quiet >"$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "error: training the peer failed (whole log: $log)" >&2
  exit 1
fi
echo "$model"
