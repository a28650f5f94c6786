package mailer

import (
	"strings"
	"testing"
)

// FuzzDeliveryMessageID: parsing never panics, a Message-ID we made parses
// back to its ids, and nothing else of ours parses unless it is exactly
// one we would make (the tag cannot be guessed).
func FuzzDeliveryMessageID(f *testing.F) {
	m := &Mailer{opt: Options{Signer: testSigner(f)}}
	for _, s := range []string{"", "kawaraban.1.2@x", "kawaraban.1.2.AAAAAAAAAAAAAAAAAAAAAA@x", "kawaraban...@", "kawaraban.-1.2.x@y",
		m.deliveryMessageID(7, 9, "city.example.jp")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		issueID, delivery, _, ok := m.parseDeliveryMessageID(id)
		if !ok {
			return
		}
		want := m.deliveryMessageID(issueID, delivery, "")
		if local, _, _ := strings.Cut(id, "@"); local+"@kawaraban.invalid" != want {
			t.Fatalf("%q parsed to %d/%d, which we would write %q", id, issueID, delivery, want)
		}
	})
}
