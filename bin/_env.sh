# Shared set-up for bin/demo and bin/test: a .venv with the pinned packages, and the Debian
# packages Guanai needs, installed with apt-get when missing (needs root, as on CI).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"

apt_install() {
  # apt_install CHECK_CMD PACKAGE... — install when CHECK_CMD fails
  local check="$1"; shift
  if eval "$check" >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" != "0" ]; then
    echo "缺少系统软件包：$* （请以 root 运行，或手工 sudo apt-get install -y $*）" >&2
    return 1
  fi
  echo "正在安装系统软件包：$*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive \
         apt-get install -y --no-install-recommends "$@" >/dev/null; }
}

ensure_venv() {
  # ensure_venv EXTRAS — create .venv on first use; reinstall when pyproject.toml changes
  local extras="$1"
  if [ ! -x .venv/bin/python ]; then
    if ! "$PY" -m venv --help >/dev/null 2>&1 || ! "$PY" -c "import ensurepip" 2>/dev/null; then
      apt_install "false" python3-venv
    fi
    "$PY" -m venv .venv
  fi
  local stamp=".venv/.installed-$extras"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "正在安装 Python 依赖（首次运行需要几分钟）…"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".$extras"
    touch "$stamp"
  fi
}
