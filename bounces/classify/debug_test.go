package classify

import (
	"encoding/json"
	"os"
	"testing"
)

func TestDebugFile(t *testing.T) {
	f := os.Getenv("CLS_FILE")
	if f == "" {
		t.Skip()
	}
	raw, _ := os.ReadFile(f)
	m, err := readMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("dsn=%d texts=%d htmls=%d fb=%d orig=%v report=%v", len(m.dsn), len(m.texts), len(m.htmls), len(m.feedback), m.original != nil, m.hasReport)
	rep, _ := Parse(raw)
	b, _ := json.MarshalIndent(rep, "", " ")
	t.Log(string(b))
}

func TestDebugText(t *testing.T) {
	f := os.Getenv("CLS_FILE")
	if f == "" {
		t.Skip()
	}
	raw, _ := os.ReadFile(f)
	m, _ := readMessage(raw)
	ex, orig := splitOriginal(m.bodyText())
	rep := &Report{EnvelopeTo: envelopeTo(m)}
	t.Logf("rcpts=%v ex=%v", textRecipients(ex, senderSide(m, rep)), senderSide(m, rep))
	t.Logf("looks=%v subject=%q from=%q\nEXPLAIN:\n%s\nORIG:%.200s", looksLikeBounce(m), m.subject, m.fromName, ex, orig)
}
