package subscribers

import (
	"testing"
	"unicode/utf8"
)

// The encoding is decided while the file streams by: a rune split
// between two reads must not make UTF-8 look like Shift_JIS, nor hide
// an invalid byte.
func TestUTF8CheckAcrossWrites(t *testing.T) {
	t.Parallel()
	for _, c := range []string{
		"email,name\nyamada@example.jp,山田 太郎\n",
		"メールアドレス,氏名\n𠮷野@example.jp,𠮷野家\n",
		"plain ascii\n",
		"email\n\x82\xa0\x82\xa2@example.jp\n", // Shift_JIS あい
		"truncated \xe5\xb1",
		"\xef\xbb\xbfemail\n",
	} {
		want := utf8.ValidString(c)
		for cut1 := 0; cut1 <= len(c); cut1++ {
			for cut2 := cut1; cut2 <= len(c); cut2++ {
				u := &utf8Check{ok: true}
				u.Write([]byte(c[:cut1]))
				u.Write([]byte(c[cut1:cut2]))
				u.Write([]byte(c[cut2:]))
				if got := u.valid(); got != want {
					t.Fatalf("%q cut at %d and %d: valid = %v, want %v", c, cut1, cut2, got, want)
				}
			}
		}
	}
}

// Duplicates are the later lines of the same hash; the first line of each
// stays.
func TestFindDups(t *testing.T) {
	t.Parallel()
	keys := []lineKey{{hash: 7, line: 2}, {hash: 3, line: 3}, {hash: 7, line: 4}, {hash: 9, line: 5}, {hash: 7, line: 6}, {hash: 3, line: 7}}
	got := findDups(keys)
	want := map[int]int{4: 2, 6: 2, 7: 3}
	if len(got) != len(want) {
		t.Fatalf("dups %v, want %v", got, want)
	}
	for l, first := range want {
		if got[l] != first {
			t.Errorf("line %d repeats %d, want %d (all: %v)", l, got[l], first, got)
		}
	}
}
