#!/usr/bin/env bash
# Create or refresh one of the project's two virtual environments from its lock file.
# Usage: scripts/setup-venv.sh DIR PYTHON LOCKFILE [PROJECT_DIR]
# The lock is installed with --require-hashes: every package, dependencies included, must be
# pinned in it with the sha256 of its files (docs/dependencies.md). PROJECT_DIR, if given, is
# then installed editable with --no-deps (a local project has no hash, so its dependencies,
# extras included, must all be in the lock already).
# Skips all work when the lock file and interpreter are unchanged since the last install.
set -euo pipefail
dir="$1"; python="$2"; lock="$3"; project="${4:-}"
stamp="$dir/.pep-voice-stamp"
want="$( (cat "$lock"; "$python" -VV; echo "require-hashes $project") | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "==> Setting up $dir from $lock (a first install can take several minutes)"
if [ ! -x "$dir/bin/python" ] || ! "$dir/bin/python" -c 'import sys' 2>/dev/null; then
  rm -rf "$dir"
  "$python" -m venv "$dir"
fi
"$dir/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
log="$dir/.install.log"
: > "$log"
# Progress for a newcomer: a line per 25 packages fetched, not pip's page of output.
packages=$(grep -cE '^[A-Za-z0-9][A-Za-z0-9._-]*==' "$lock" || true)
pip_install() {
  set +e
  "$dir/bin/python" -m pip install --disable-pip-version-check --progress-bar off "$@" 2>&1 |
    tee -a "$log" | grep --line-buffered -E '^(Collecting|Successfully installed)' |
    awk -v total="$packages" '
      /^Successfully installed/ { print "    installed " NF - 2 " packages"; fflush(); next }
      { n++; if (n % 25 == 0) { print "    fetched " n " of " total " packages"; fflush() } }'
  local status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then
    tail -n 20 "$log" >&2
    echo "error: pip install $* (into $dir) failed (full log: $log)." >&2
    exit 1
  fi
}
pip_install --require-hashes -r "$lock"
if [ -n "$project" ]; then
  pip_install --no-deps -e "$project"
fi
echo "$want" > "$stamp"
echo "==> $dir is ready"
