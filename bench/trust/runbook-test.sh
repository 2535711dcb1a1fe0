#!/usr/bin/env bash
# Times `runbook test` over a runbook folder (default: the repository's examples), cold (--no-cache: Roslyn compiles
# every runbook) and warm (from the compile cache), N runs each, side by side. Results go in docs/benchmarks.md.
#   bench/trust/runbook-test.sh [FOLDER] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
folder=${1:-runbooks}
runs=${2:-3}
dotnet build src/RunbookEngine.Cli -v q -nologo >/dev/null
cli=src/RunbookEngine.Cli/bin/Debug/net10.0/runbook.dll
RUNBOOKENGINE_CACHE=$(mktemp -d)
export RUNBOOKENGINE_CACHE
trap 'rm -rf "$RUNBOOKENGINE_CACHE"' EXIT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$runs"); do
  /usr/bin/time -f "no-cache %e s" dotnet "$cli" test "$folder" --no-cache >/dev/null 2>/tmp/runbook-test-bench.err || { cat /tmp/runbook-test-bench.err; exit 1; }
  tail -1 /tmp/runbook-test-bench.err
done
dotnet "$cli" test "$folder" >/dev/null
for _ in $(seq "$runs"); do
  /usr/bin/time -f "warm %e s" dotnet "$cli" test "$folder" >/dev/null 2>/tmp/runbook-test-bench.err
  tail -1 /tmp/runbook-test-bench.err
done
rm -f /tmp/runbook-test-bench.err
