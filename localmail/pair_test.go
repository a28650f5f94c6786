package localmail

import (
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// Start gives local mode both servers on loopback: mail sent to the relay
// is captured in the directory.
func TestStartCapturesMail(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "captured")
	s, err := Start(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.SMTPPort == 0 || s.IMAPPort == 0 {
		t.Fatalf("ports %d, %d", s.SMTPPort, s.IMAPPort)
	}
	msg := "From: a@city.example.jp\r\nTo: b@example.jp\r\nSubject: x\r\n\r\nbody\r\n"
	if err := smtp.SendMail("127.0.0.1:"+strconv.Itoa(s.SMTPPort), nil, "a@city.example.jp", []string{"b@example.jp"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) == 0 {
		t.Fatalf("captured: %v, %v", ents, err)
	}
}
