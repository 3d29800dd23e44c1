# Shared by scripts/demo and scripts/test: a virtual environment with Doorstep installed.
# Sourced, not run. Needs only python3 (3.11+) and, for the tests, Debian's apt.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install() {
  # Installs Debian packages that are missing; apt's lists are refreshed once.
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "Installing ${missing[*]} with apt-get…"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" </dev/null >/dev/null
}

if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  apt_install python3-venv
fi
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
EXTRAS="${DOORSTEP_EXTRAS:-}"
STAMP=".venv/.installed${EXTRAS:+-$EXTRAS}"
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${EXTRAS:+[$EXTRAS]}" </dev/null
  touch "$STAMP"
fi
