package subscribers

import (
	"strconv"
	"testing"
)

// BenchmarkStillErased is what bounces pays per address a report names
// (newsletter.Attribution → StillErased), over 100,000 subscribers and
// 100,000 erasures: "unerased" is every report about a living address
// (the signer's HMAC and one miss in subscriber_erasures' hash index),
// "erased" one about an erased address (a hit, then the subscribers'
// case-blind email index).
func BenchmarkStillErased(b *testing.B) {
	const n = 100_000
	f := newFixture(b)
	seedConfirmed(b, f, f.list(b, "kodomo").ID, n)
	tx, err := f.s.db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	ins, err := tx.Prepare(`INSERT INTO subscriber_erasures (subscriber_id, address_hash, at_ms, actor) VALUES (?, ?, 0, 'bench')`)
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		if _, err := ins.Exec(n+i+1, f.s.erasedKey("gone"+strconv.Itoa(i)+"@example.jp")); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name, prefix string
		erased       bool
	}{{"unerased", "user", false}, {"erased", "gone", true}} {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				_, erased, err := f.s.StillErased(f.ctx, c.prefix+strconv.Itoa(i%n)+"@example.jp")
				if err != nil || erased != c.erased {
					b.Fatalf("%s%d: erased %v, %v", c.prefix, i%n, erased, err)
				}
				i++
			}
		})
	}
}
