package templates

import (
	"strings"
	"testing"
)

// TestGoldenJointFooter: issue 17. A joint issue's footer names every list
// of the issue, says which list the reader gets it for (the list of the
// unsubscribe link), and keeps the lead's sender identity; golden files
// issue-joint.*.golden (go test ./templates -update).
func TestGoldenJointFooter(t *testing.T) {
	t.Parallel()
	s := newSet(t)
	lead := goldenList("utf-8")
	bunka := ListInfo{Slug: "bunka", NameJA: "文化センターだより", NameEN: "Culture Center News",
		FromName: "京都市文化センター", FromAddress: "bunka@example.jp", PostalAddress: "〒600-0000 京都市下京区",
		Contact: "075-111-1111 bunka@example.jp", NameFallback: "読者"}
	// The recipient gets it for bunka (their first list of the issue),
	// signed by the lead (kankyo).
	in := goldenInput("utf-8")
	in.List = bunka
	in.List.FromName, in.List.FromAddress = lead.FromName, lead.FromAddress
	in.List.PostalAddress, in.List.Contact = lead.PostalAddress, lead.Contact
	in.Joint = []ListInfo{lead, bunka}
	in.Number, in.ArchiveURL = 5, "https://example.jp/archive/bunka/12"
	p, err := s.Prepare(in)
	if err != nil {
		t.Fatal(err)
	}
	r := goldenRecipient("山田 花子")
	parts, err := p.Render(r)
	if err != nil {
		t.Fatal(err)
	}
	checkFooter(t, parts, lead, r)
	for _, part := range []string{parts.Text, parts.HTML} {
		for _, want := range []string{"環境センターだより・文化センターだより の共同発行", "配信の停止（文化センターだより）",
			"文化センターだより　第5号", "すべてのメールマガジン"} {
			if !strings.Contains(part, want) {
				t.Errorf("joint issue lacks %q", want)
			}
		}
		if strings.Contains(part, bunka.PostalAddress) {
			t.Errorf("the footer names the second list's address; the lead signs a joint issue")
		}
	}
	golden(t, "issue-joint.txt.golden", []byte(parts.Text))
	golden(t, "issue-joint.html.golden", []byte(parts.HTML))
}
