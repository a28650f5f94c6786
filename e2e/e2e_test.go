//go:build e2e

package e2e

import "testing"

// TestE2E runs the scenarios (issue 10's seven and later ones) one after another: they
// share the mail stack (its Maildirs and the bounce mailbox), and each
// starts its own daemon with its own data directory and signing key.
// Run one alone with -run 'TestE2E/NAME' (docs/TESTING.md).
func TestE2E(t *testing.T) {
	scenarios := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"bounce_loop", bounceLoop},
		{"one_click_unsubscribe", oneClickUnsubscribe},
		{"empty_mail_join", emptyMailJoin},
		{"reminders", reminders},
		{"crash", crash},
		{"faults", faults},
		{"relay_rate", relayRate}, // issue 22
		{"browser", browser},
		{"progress_reports", progressReports},
		{"litestream", litestreamScenario},
		{"litestream_replica_configs", litestreamReplicaConfigs},
	}
	for _, s := range scenarios {
		t.Run(s.name, s.run)
	}
}
