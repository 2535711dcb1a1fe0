#!/usr/bin/env bash
# The README's test command: installs what the tests need when it can (or says what to install), then runs every test
# (extra arguments go to dotnet test, e.g. --filter), prints the totals, and ends whatever the run left behind.
# RUNBOOKENGINE_NO_INSTALL=1 never installs anything: it only says what is missing, as on a machine without root.
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# The example runbooks and their tests use git, python3 (a stand-in service for the restart runbook), df, setsid and sh.
missing=()
need() { [[ " ${missing[*]} " == *" $1 "* ]] || missing+=("$1"); }
command -v git >/dev/null || need git
command -v python3 >/dev/null || need python3
command -v setsid >/dev/null || need util-linux
command -v runuser >/dev/null || need util-linux
# The host tests signal host processes (SIGTERM, SIGSTOP, SIGCONT) with kill(1), not the shell's builtin.
type -P kill >/dev/null || need procps
# The store tests start a throwaway PostgreSQL from the server binaries (initdb, pg_ctl).
if ! command -v initdb >/dev/null && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need postgresql
fi
# The end-to-end webhook tests run a real Alertmanager (prometheus-alertmanager) and push alerts with its amtool.
if ! command -v prometheus-alertmanager >/dev/null || ! command -v amtool >/dev/null; then
  need prometheus-alertmanager
fi
# The game day's end-to-end test has a real Prometheus (Debian's 2.42) scrape a stand-in service and fire the alert.
command -v prometheus >/dev/null || need prometheus
# The compose file's test runs its Caddyfile in Debian's caddy, in front of two real hosts.
command -v caddy >/dev/null || need caddy
# The dashboard's browser tests drive Debian's chromium (/usr/bin/chromium) through Playwright, which downloads no browser.
command -v chromium >/dev/null || need chromium

if [ ${#missing[@]} -gt 0 ]; then
  if [ "${RUNBOOKENGINE_NO_INSTALL:-}" != 1 ] && [ "$(id -u)" = 0 ]; then
    as_root=()
  elif [ "${RUNBOOKENGINE_NO_INSTALL:-}" != 1 ] && command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
  else
    echo "tests/run.sh: the tests need Debian packages that are not installed, and this user cannot install them. As root, run:" >&2
    echo "  apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "tests/run.sh: installing ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq "${missing[@]}"
fi
# PostgreSQL refuses to run as root; the tests start it as the postgres account, which the package normally creates.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi

# Every process of this run inherits the tag, so what outlives it can be told apart from other runs on the machine.
export RUNBOOKENGINE_TEST_RUN="$$-$(date +%s%N)"
tagged() {
  local pid
  # The search itself runs untagged; this shell and its subshell are not leftovers, and neither are the build servers
  # (MSBuild nodes, the compiler server) that dotnet keeps on purpose and other builds on the machine may be using.
  for pid in $(env -u RUNBOOKENGINE_TEST_RUN sh -c 'grep -lzxF "$0" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3' "RUNBOOKENGINE_TEST_RUN=$RUNBOOKENGINE_TEST_RUN"); do
    [ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ] && continue
    grep -qaE 'MSBuild\.dll|VBCSCompiler|rzc\.dll' "/proc/$pid/cmdline" 2>/dev/null && continue
    echo "$pid"
  done
}

# The test output is kept so the totals of all test projects can be added up at the end.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test RunbookEngine.sln "$@" 2>&1 | tee "$log" || status=$?
awk '/(Passed|Failed)!  - Failed:/ {
       for (i = 1; i <= NF; i++) { v = $(i+1); gsub(",", "", v);
         if ($i == "Failed:") f += v; if ($i == "Passed:") p += v; if ($i == "Skipped:") s += v } }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"

# A safety net, not the cleanup: each test process's own reaper ends what it started once it is gone (stopping a
# throwaway PostgreSQL and deleting its folder takes seconds, longer on a loaded machine), so give those up to a
# minute, then end and name whatever is still running.
for _ in $(seq 300); do
  [ -z "$(tagged)" ] && break
  sleep 0.2
done
left=$(tagged)
if [ -n "$left" ]; then
  echo "tests/run.sh: the run left these processes running; ending them:"
  for pid in $left; do
    echo "  $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
  done
  # shellcheck disable=SC2086 # one pid per word
  kill -KILL $left 2>/dev/null || true
fi
exit "$status"
