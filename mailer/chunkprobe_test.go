package mailer

import (
	"testing"
	"time"
)

// The probe alternates the shapes until it has probeSamples of each, then
// keeps the one with the lower median, and measures again after
// reprobeAfter transactions.
func TestChunkProbe(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	for _, tc := range []struct {
		name      string
		took      map[chunkShape]time.Duration
		want      chunkShape
		oneSlowOf int // every oneSlowOf-th split sample takes 100 ms (0: none)
	}{
		{name: "stall on one write (Postfix)", took: map[chunkShape]time.Duration{chunkOneWrite: 44 * ms, chunkSplit: 2 * ms}, want: chunkSplit},
		{name: "no stall (go-smtp)", took: map[chunkShape]time.Duration{chunkOneWrite: ms / 3, chunkSplit: ms / 2}, want: chunkOneWrite},
		{name: "a loaded machine: split slower than a stall", took: map[chunkShape]time.Duration{chunkOneWrite: 44 * ms, chunkSplit: 60 * ms}, want: chunkSplit},
		{name: "an outlier does not decide", took: map[chunkShape]time.Duration{chunkOneWrite: 44 * ms, chunkSplit: 2 * ms}, oneSlowOf: 3, want: chunkSplit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newChunkProbe()
			seen := map[chunkShape]int{}
			decided := false
			for i := 0; i < 4*probeSamples && !decided; i++ {
				s := p.shape()
				seen[s]++
				took := tc.took[s]
				if s == chunkSplit && tc.oneSlowOf > 0 && seen[s]%tc.oneSlowOf == 0 {
					took = 100 * ms
				}
				var chosen chunkShape
				chosen, _, decided = p.record(s, took)
				if decided && chosen != tc.want {
					t.Fatalf("chose %s, want %s", chosen, tc.want)
				}
			}
			if !decided {
				t.Fatalf("no choice after %v", seen)
			}
			if seen[chunkOneWrite] != probeSamples || seen[chunkSplit] != probeSamples {
				t.Errorf("probed %v, want %d of each", seen, probeSamples)
			}
			for i := 0; i < reprobeAfter-1; i++ {
				if s := p.shape(); s != tc.want {
					t.Fatalf("transaction %d after the choice used %s", i, s)
				}
			}
			again := map[chunkShape]bool{p.shape(): true, p.shape(): true, p.shape(): true}
			if len(again) != 2 {
				t.Errorf("after %d transactions the probe did not measure both shapes again: %v", reprobeAfter, again)
			}
		})
	}
}
