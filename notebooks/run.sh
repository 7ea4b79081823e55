#!/usr/bin/env bash
# Runs small scenarios fresh and executes every notebook headless against their outputs, so
# that no notebook rots: a cell that raises fails the script. The Python packages are pinned
# in notebooks/requirements.txt and installed into a virtual environment (target/notebooks-venv)
# from PyPI the first time.
#
#   notebooks/run.sh             # DEPINSIM_BIN names the binary (default target/release/depinsim)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${DEPINSIM_BIN:-target/release/depinsim}
venv=target/notebooks-venv
if [ ! -x "$venv/bin/python" ] || ! cmp -s notebooks/requirements.txt "$venv/requirements.txt"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r notebooks/requirements.txt
  cp notebooks/requirements.txt "$venv/requirements.txt"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" run scenarios/quickstart.yaml --quiet --no-report --replications 4 \
  --set simulation.horizon_h=6 --out "$work/quickstart"
"$bin" viability scenarios/training-vs-inference.yaml --quiet --no-report --replications 4 \
  --set simulation.horizon_h=48 --out "$work/training-vs-inference" >/dev/null
"$bin" sweep scenarios/sweeps/quickstart-sensitivity.yaml --quiet \
  --out "$work/quickstart-sensitivity" 2>/dev/null
export DEPINSIM_RUN="$work/quickstart" DEPINSIM_VIABILITY="$work/training-vs-inference" \
  DEPINSIM_SWEEP="$work/quickstart-sensitivity"
"$venv/bin/python" - notebooks/*.ipynb <<'PY'
import sys
import nbformat
from nbclient import NotebookClient
for path in sys.argv[1:]:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": "notebooks"}}).execute()
    cells = sum(1 for c in nb.cells if c.cell_type == "code")
    print(f"executed {path}: {cells} code cells, no error")
PY
