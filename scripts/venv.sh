# Shared by scripts/up and scripts/test: make ./.venv and install the project into it,
# skipping pip when pyproject.toml has not changed since the last install.
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}

install_project() {
  local spec=$1
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  local stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${spec//[^a-z]/}"
  if [ ! -f "$stamp" ]; then
    echo "Installing ${spec} into .venv ..."
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
    touch "$stamp"
  fi
}
