#!/usr/bin/env bash
# Print the path of a working Python interpreter of the given minor version, or fail with one
# clear line. Usage: scripts/find-python.sh 3.10 PYTHON310
#   1. the environment variable named by the second argument, if set;
#   2. pyenv's versions folder ($PYENV_ROOT or ~/.pyenv);
#   3. pythonX.Y on PATH (a pyenv shim that refuses to run is skipped);
#   4. `uv python find X.Y`.
set -euo pipefail
want="$1"
var="${2:-}"

works() {
  [ -n "$1" ] && [ -x "$1" ] &&
    [ "$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$want" ]
}

candidates=()
if [ -n "$var" ] && [ -n "${!var:-}" ]; then
  if works "${!var}"; then echo "${!var}"; exit 0; fi
  echo "error: $var=${!var} is not a working Python $want interpreter." >&2
  exit 1
fi
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
for dir in $(ls -d "$pyenv_root"/versions/"$want".* 2>/dev/null | sort -t. -k3 -n -r); do
  candidates+=("$dir/bin/python$want")
done
candidates+=("$(command -v "python$want" 2>/dev/null || true)")
if command -v uv >/dev/null 2>&1; then
  candidates+=("$(uv python find "$want" 2>/dev/null || true)")
fi
for c in "${candidates[@]}"; do
  if works "$c"; then echo "$c"; exit 0; fi
done
echo "error: no Python $want found. Install it (e.g. 'pyenv install $want' or 'uv python install $want') or set ${var:-a PYTHON variable} to its path." >&2
exit 1
