#!/usr/bin/env bash
# One entry point for a fresh machine with Python 3.11 and nothing else.
#   bash dev.sh run   [sla-sim run options]   set up .venv, simulate the default scenario
#   bash dev.sh test  [pytest options]        set up .venv, run the whole test suite
#   bash dev.sh bench [benchmark options]     set up .venv, run the speed benchmarks
#   bash dev.sh mutate [GROUP ...] [--jobs N] mutation testing (mutmut) of calendar, model,
#                                             metrics, scenario_rules; slow, never part of test
# Set-up is skipped when .venv already matches pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")"
PY="${PYTHON:-python3}"
VENV=.venv

need_venv_pkg() {
  echo "dev.sh: Python's venv module is missing; installing python3-venv" >&2
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
  else
    echo "dev.sh: run: sudo apt-get install -y python3-venv" >&2
    exit 1
  fi
}

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
      echo "dev.sh: Python >= 3.11 is required ($("$PY" --version 2>&1))" >&2; exit 1; }
    "$PY" -c 'import venv, ensurepip' 2>/dev/null || need_venv_pkg
    "$PY" -m venv "$VENV" || { rm -rf "$VENV"; need_venv_pkg; "$PY" -m venv "$VENV"; }
  fi
  local stamp="$VENV/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ]; then
    echo "dev.sh: installing sla_sim and its dependencies into $VENV (about a minute)" >&2
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[dev,notebook]"
    rm -f "$VENV"/.installed-*
    touch "$stamp"
  fi
  # The fast engine's compiled loop, the passes around it and the metrics' (numba) are built once
  # per version of their source and cached on disk beside it, so no replication, worker or
  # planner page pays the compile (after a pull that changed them, too)
  local compiled="$VENV/.compiled-$(cat sla_sim/model/kernel.py sla_sim/model/passes.py \
      sla_sim/metrics/kernels.py | sha256sum | cut -c1-16)"
  if [ ! -f "$compiled" ] || ! ls sla_sim/model/__pycache__/kernel*.nbi \
      sla_sim/model/__pycache__/passes*.nbi sla_sim/metrics/__pycache__/kernels*.nbi \
      >/dev/null 2>&1; then
    echo "dev.sh: compiling the fast engine once (a minute or two; cached afterwards)" >&2
    "$VENV/bin/python" -c "from sla_sim.batch.worker import warm_up; warm_up()"
    rm -f "$VENV"/.compiled-*
    touch "$compiled"
  fi
  # JupyterLab in this environment saves widget state with a notebook (a saved notebook 01
  # reopens with its panel, not "model not found"); pip's editable install skips data-files
  local lab_settings="$VENV/share/jupyter/lab/settings"
  if ! cmp -s sla_sim/data/jupyterlab/overrides.json "$lab_settings/overrides.json"; then
    mkdir -p "$lab_settings" && cp sla_sim/data/jupyterlab/overrides.json "$lab_settings/"
  fi
}

ensure_browser() {
  # Debian's Chromium for the dashboard browser test (never `playwright install`).
  [ -x /usr/bin/chromium ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "dev.sh: installing Debian's chromium for the browser test" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "dev.sh: no /usr/bin/chromium and not root: the browser test will be skipped" \
      "(install it with: sudo apt-get install -y chromium)" >&2
  fi
}

cmd="${1:-}"
[ $# -gt 0 ] && shift
case "$cmd" in
  run)
    ensure_venv
    exec "$VENV/bin/sla-sim" run "$@"
    ;;
  test)
    ensure_venv
    ensure_browser || echo "dev.sh: could not install chromium; the browser test will say so" >&2
    # one pytest worker per core (at most 4), a test file's tests together on one worker (its
    # module fixtures are built once, and its tests keep their order); -n or --pdb given: as given
    parallel=()
    cores="$(nproc 2>/dev/null || echo 1)"
    if [ "$cores" -gt 1 ] && ! printf '%s\n' "$@" | grep -qE '^(-n|--numprocesses|--pdb|(-p)?no:xdist$)'; then
      parallel=(-n "$(( cores < 4 ? cores : 4 ))" --dist loadfile)
    fi
    exec "$VENV/bin/python" -m pytest "${parallel[@]}" "$@"
    ;;
  bench)
    ensure_venv
    exec "$VENV/bin/python" benchmarks/run.py "$@"
    ;;
  mutate)
    ensure_venv
    exec "$VENV/bin/python" tests/mutate.py "$@"
    ;;
  *)
    echo "usage: bash dev.sh {run|test|bench|mutate} [options]" >&2
    exit 2
    ;;
esac
