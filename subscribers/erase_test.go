package subscribers

import (
	"testing"
)

// StillErased names an address erased and not back as its ErasedKey (in
// any case of the address), and says nothing of one never erased, one
// that came back by its own subscribe request, or a string that is no
// address: bounces records a report naming the address under the key
// (docs/subscribers.md).
func TestStillErased(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.subscribeConfirmed(t, "Gone.Reader@example.jp", "kodomo")
	f.subscribeConfirmed(t, "kept@example.jp", "kodomo")
	back := f.subscribeConfirmed(t, "back@example.jp", "kodomo")
	for _, erase := range []int64{id, back} {
		if _, err := f.s.Erase(f.ctx, erase, "admin", "本人からの削除依頼"); err != nil {
			t.Fatal(err)
		}
	}
	f.subscribe(t, "back@example.jp", "kodomo") // a fresh opt-in request: a subscriber again
	key, err := f.s.ErasedKey("gone.reader@EXAMPLE.jp")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		email, key string
		erased     bool
	}{
		{"Gone.Reader@example.jp", key, true},
		{"GONE.READER@Example.JP", key, true},
		{"kept@example.jp", "", false},
		{"back@example.jp", "", false},
		{"never@example.jp", "", false},
		{"not an address", "", false},
		{"", "", false},
	}
	if !IsErasedKey(key) || IsErasedKey("Gone.Reader@example.jp") {
		t.Errorf("IsErasedKey: %q %v, the address %v", key, IsErasedKey(key), IsErasedKey("Gone.Reader@example.jp"))
	}
	for _, c := range cases {
		k, erased, err := f.s.StillErased(f.ctx, c.email)
		if err != nil || k != c.key || erased != c.erased {
			t.Errorf("StillErased(%q) = %q, %v, %v; want %q, %v", c.email, k, erased, err, c.key, c.erased)
		}
	}
}
