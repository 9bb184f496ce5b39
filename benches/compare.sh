#!/usr/bin/env bash
# Side-by-side benchmark of breachscope against zcat, pigz, ripgrep, DuckDB
# and Polars for Python on the same generated logs (see compare.py).
#
#   benches/compare.sh                      # 2 GiB in 8 gzip files, 3 runs
#   benches/compare.sh --size 512MiB --runs 5
#   benches/compare.sh --scaling            # also 1 vs 2 threads and 0.5-4 GiB
#
# Installs what is missing (pigz and ripgrep from Debian, duckdb and polars
# from PyPI), builds the release binary, and writes the table to
# bench-data/results.md as well as stdout.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v pigz >/dev/null || need_apt+=(pigz)
command -v rg >/dev/null || need_apt+=(ripgrep)
command -v /usr/bin/time >/dev/null || need_apt+=(time)
if [ ${#need_apt[@]} -gt 0 ]; then
    if command -v sudo >/dev/null && [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get install -y -q "${need_apt[@]}" >/dev/null
fi
python3 -c 'import duckdb, polars' 2>/dev/null || python3 -m pip install -q duckdb polars

cargo build --release -q
exec python3 benches/compare.py "$@"
