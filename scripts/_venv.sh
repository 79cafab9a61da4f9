# Sourced by scripts/demo and scripts/test: make .venv hold this project and its dependencies.
# Installs on first use and again whenever pyproject.toml changes (a stamp file remembers).
ensure_venv() {
  local extras="$1" python="" stamp=".venv/.installed-${1:-base}"
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python="$candidate"; break
    fi
  done
  if [ -z "$python" ]; then echo "newswatch needs Python 3.11 or newer" >&2; exit 1; fi
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
  fi
  local want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing newswatch and its dependencies into .venv ..." >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}" >&2
    echo "$want" > "$stamp"
  fi
}
