// Package e2e is kawaraban's end-to-end suite: the built binary run as an
// operator runs it, beside real Postfix and Dovecot (e2e/mailstack) and
// headless Chromium. The tests sit behind the e2e build tag; e2e/run.sh
// installs and starts what they need and runs them (docs/TESTING.md).
package e2e
