package mailer

import (
	"math"
	"testing"
	"time"
)

func TestMeterRate(t *testing.T) {
	type sent struct {
		at time.Duration
		n  int
	}
	t0 := time.Unix(1_800_000_000, 0)
	var steady []sent
	for i := range 10 {
		steady = append(steady, sent{time.Duration(i) * time.Second, 100})
	}
	tests := []struct {
		name string
		adds []sent
		at   time.Duration
		want float64
	}{
		{"nothing sent", nil, 0, 0},
		{"one burst counts over at least a second", []sent{{0, 50}}, 200 * time.Millisecond, 50},
		{"steady 100/s for 10 s", steady, 10 * time.Second, 100},
		{"older than a minute is forgotten", []sent{{0, 1000}, {65 * time.Second, 30}}, 66 * time.Second, 30},
		{"a quiet minute is zero", []sent{{0, 1000}}, 61 * time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMeter()
			for _, a := range tt.adds {
				m.add(7, t0.Add(a.at), a.n)
			}
			if got := m.rate(7, t0.Add(tt.at)); math.Abs(got-tt.want) > 0.01 {
				t.Errorf("rate = %.2f, want %.2f", got, tt.want)
			}
			if got := m.rate(8, t0.Add(tt.at)); got != 0 {
				t.Errorf("another issue's rate = %.2f, want 0", got)
			}
		})
	}
}

func TestMeterSweepsOldIssues(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	m := newMeter()
	m.add(1, t0, 5)
	m.add(2, t0.Add(2*time.Minute), 5)
	if _, ok := m.issues[1]; ok {
		t.Error("issue 1, quiet for two minutes, is still kept")
	}
	if _, ok := m.issues[2]; !ok {
		t.Error("issue 2 is not kept")
	}
}
