package mailer

import (
	"slices"
	"sync"
	"time"
)

// chunkProbe chooses, for one relay, the chunkShape of BDAT transactions
// from measurement: the first 2×probeSamples transactions alternate the
// two shapes; the one-write shape is kept for the next reprobeAfter
// transactions when its median time is below the split shape's and below
// oneWriteMax, else the split shape; then it measures again (the relay may
// have been replaced or reconfigured).
//
// Against a relay that stalls on the one-write shape each such transaction
// takes at least a delayed-ACK timeout (40 ms on Linux, up to 200 ms
// elsewhere) instead of about a millisecond; against one that does not
// (go-smtp) the one-write shape saves a round trip and some CPU per
// message. oneWriteMax keeps a loaded machine, where split transactions
// too can take tens of milliseconds, from choosing the stalling shape for
// the next 100,000 messages; its price is the split shape's extra round
// trip on a relay more than 30 ms away.
type chunkProbe struct {
	mu       sync.Mutex
	samples  [2][]time.Duration // by chunkShape
	chosen   chunkShape
	probing  bool
	next     chunkShape // the shape the next probe transaction uses
	sinceSet int        // transactions since the last choice
}

const (
	probeSamples = 8
	reprobeAfter = 100_000
	oneWriteMax  = 30 * time.Millisecond
)

func newChunkProbe() *chunkProbe { return &chunkProbe{probing: true} }

// shape returns the shape for the next transaction.
func (p *chunkProbe) shape() chunkShape {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.probing {
		p.sinceSet++
		if p.sinceSet >= reprobeAfter {
			p.probing, p.samples = true, [2][]time.Duration{}
		}
		return p.chosen
	}
	s := p.next
	if len(p.samples[s]) >= probeSamples {
		s = 1 - s
	}
	p.next = 1 - s
	return s
}

// record adds the time a successful transaction of shape s took. It
// returns true, with both medians, when this sample completed a
// measurement and a shape was chosen.
func (p *chunkProbe) record(s chunkShape, took time.Duration) (chosen chunkShape, medians [2]time.Duration, done bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.probing || len(p.samples[s]) >= probeSamples {
		return p.chosen, medians, false
	}
	p.samples[s] = append(p.samples[s], took)
	if len(p.samples[chunkOneWrite]) < probeSamples || len(p.samples[chunkSplit]) < probeSamples {
		return p.chosen, medians, false
	}
	for i := range p.samples {
		medians[i] = medianDuration(p.samples[i])
	}
	p.chosen = chunkSplit
	if medians[chunkOneWrite] < medians[chunkSplit] && medians[chunkOneWrite] < oneWriteMax {
		p.chosen = chunkOneWrite
	}
	p.probing, p.sinceSet, p.next = false, 0, chunkOneWrite
	return p.chosen, medians, true
}

// settledOneWrite reports whether the one-write shape was chosen and no
// measurement is under way.
func (p *chunkProbe) settledOneWrite() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.probing && p.chosen == chunkOneWrite
}

// settled returns the chosen shape and whether no measurement is under
// way.
func (p *chunkProbe) settled() (chunkShape, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.chosen, !p.probing
}

// advance counts n transactions sent in groups towards the next
// measurement.
func (p *chunkProbe) advance(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.probing {
		return
	}
	p.sinceSet += n
	if p.sinceSet >= reprobeAfter {
		p.probing, p.samples = true, [2][]time.Duration{}
	}
}

func medianDuration(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
