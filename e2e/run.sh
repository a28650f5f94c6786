#!/usr/bin/env bash
# End-to-end suite: real Postfix and Dovecot on loopback (e2e/mailstack),
# headless Chromium with axe-core, and the kawaraban binary as a user runs it.
# Needs root (installs Debian packages and starts the mail servers).
# Run one scenario: e2e/run.sh -run 'TestE2E/bounce_loop'
set -euo pipefail
cd "$(dirname "$0")/.."
here=$PWD/e2e

export DEBIAN_FRONTEND=noninteractive
# Install exactly what is missing. Node.js and npm are used as the machine
# has them (an image's Node.js ships its own npm, and Debian's npm package
# conflicts with it); Debian's nodejs/npm come in only when there is none.
need=()
command -v postfix >/dev/null || need+=(postfix)
command -v smtp-source >/dev/null || need+=(postfix)
command -v dovecot >/dev/null || need+=(dovecot-core dovecot-imapd)
command -v openssl >/dev/null || need+=(openssl)
command -v chromium >/dev/null || need+=(chromium)
dpkg -s fonts-ipafont-gothic >/dev/null 2>&1 || need+=(fonts-ipafont-gothic)
command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "e2e: missing ${need[*]}; run as root or install them" >&2
    exit 1
  fi
  apt-get update -qq
  printf '%s\n' 'postfix postfix/main_mailer_type select Local only' \
    'postfix postfix/mailname string example.test' | debconf-set-selections
  apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${need[@]}" | sort -u) >/dev/null
fi
for tool in postfix smtp-source dovecot openssl chromium npm; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is still missing after installing ${need[*]:-nothing}" >&2; exit 1; }
done

# Litestream for the disk-loss scenario: a Go module, built with go install
# (the version deploy/litestream.service documents).
export PATH="$(go env GOPATH)/bin:$PATH"
if ! command -v litestream >/dev/null; then
  echo "e2e: installing litestream (go install …/litestream/cmd/litestream@v0.5.17)"
  go install github.com/benbjohnson/litestream/cmd/litestream@v0.5.17 ||
    { echo "e2e: litestream is missing and could not be installed" >&2; exit 1; }
fi

# axe-core for the accessibility checks, installed beside the suite.
if [ ! -f "$here/node_modules/axe-core/axe.min.js" ]; then
  (cd "$here" && npm install --silent --no-audit --no-fund --no-save --no-package-lock axe-core@4 >/dev/null)
fi
export KAWARABAN_AXE="$here/node_modules/axe-core/axe.min.js"

# The mail stack is machine-wide: two runs at once would purge and restart
# it under each other, so they take turns.
exec 9>/run/kawaraban-e2e.lock
if ! flock -n 9; then
  # (fd 9 closed first, so that only other processes show up)
  holders=$(exec 9>&-; find /proc/[0-9]*/fd -maxdepth 1 -lname /run/kawaraban-e2e.lock 2>/dev/null |
    cut -d/ -f3 | sort -u | while read -r pid; do
      [ "$pid" = $$ ] || echo "  $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-80)"
    done; true)
  echo "e2e: waiting for /run/kawaraban-e2e.lock, held by:" >&2
  echo "${holders:-  (nobody found)}" >&2
  flock 9
fi

# The mail servers must not inherit the lock (fd 9): a Dovecot started
# with it (here, or by a scenario that restarts it) would hold it after a
# run that was killed, and every later run would wait for ever.
"$here/mailstack/stop.sh" --purge >/dev/null 2>&1 9>&- || true
"$here/mailstack/start.sh" 9>&-
trap '"$here/mailstack/stop.sh" >/dev/null 2>&1 9>&- || true' EXIT

export KAWARABAN_E2E=1 KAWARABAN_REQUIRE_ALL=1
export KAWARABAN_ARTIFACTS="${KAWARABAN_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$KAWARABAN_ARTIFACTS"
# Only this shell holds the lock: the tests restart Dovecot themselves.
go test -tags e2e -count=1 -timeout 15m -v "$@" ./e2e/ 2>&1 9>&- | tee "$KAWARABAN_ARTIFACTS/e2e.log" 9>&-
