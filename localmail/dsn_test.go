package localmail

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// parsedDSN is what a bounce reader takes from a DSN.
type parsedDSN struct {
	to, deliveredTo, reportType string
	statusType, returnedType    string
	mta, arrival                string
	rcpts                       []map[string]string
	returned                    []byte
}

// parseDSN reads a DSN with go-message the way package bounces does.
func parseDSN(t *testing.T, raw []byte) parsedDSN {
	t.Helper()
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("reading DSN: %v\n%s", err, raw)
	}
	var p parsedDSN
	p.to, p.deliveredTo = e.Header.Get("To"), e.Header.Get("Delivered-To")
	ct, params, err := e.Header.ContentType()
	if err != nil || ct != "multipart/report" {
		t.Fatalf("content type %q %v", ct, err)
	}
	p.reportType = params["report-type"]
	mr := e.MultipartReader()
	for i := 0; ; i++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		pct, _, _ := part.Header.ContentType()
		body, err := io.ReadAll(part.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch i {
		case 1:
			p.statusType = pct
			br := bufio.NewReader(bytes.NewReader(body))
			h, err := textproto.ReadHeader(br)
			if err != nil {
				t.Fatalf("per-message fields: %v", err)
			}
			p.mta, p.arrival = h.Get("Reporting-MTA"), h.Get("Arrival-Date")
			for {
				h, err := textproto.ReadHeader(br)
				if err != nil || h.Len() == 0 {
					break
				}
				m := map[string]string{}
				for f := h.Fields(); f.Next(); {
					raw, _ := f.Raw()
					key, _, _ := strings.Cut(string(raw), ":") // as written, not canonicalised
					m[key] = f.Value()
				}
				p.rcpts = append(p.rcpts, m)
			}
		case 2:
			p.returnedType, p.returned = pct, body
		}
	}
	return p
}

func TestBuildDSN(t *testing.T) {
	t.Parallel()
	date := time.Date(2027, 4, 1, 9, 30, 0, 0, time.FixedZone("JST", 9*3600))
	base := DSN{
		ReportingMTA: "mx.city.example.jp",
		To:           "bounces+tok@city.example.jp",
		Date:         date,
		MessageID:    "dsn.1@mx.city.example.jp",
		ArrivalDate:  date.Add(-time.Minute),
		Recipients: []DSNRecipient{{
			Final: "a@example.jp", Action: "failed", Status: "5.1.1",
			RemoteMTA: "mx.example.jp", Diagnostic: "550 5.1.1 <a@example.jp>: user unknown",
		}, {
			Final: "b@example.jp", Original: "rfc822; B@example.jp", Action: "delayed", Status: "4.2.2",
			Diagnostic: "452 4.2.2 mailbox full",
		}},
		Headers: []byte("From: news@city.example.jp\r\nMessage-ID: <m1@city.example.jp>\r\n"),
	}
	for _, tc := range []struct {
		name         string
		edit         func(*DSN)
		statusType   string
		returnedType string
		final        string
	}{
		{"headers (RFC 6522 text/rfc822-headers)", func(*DSN) {}, "message/delivery-status", "text/rfc822-headers", "rfc822; a@example.jp"},
		{"whole original (message/rfc822)", func(d *DSN) { d.Original = []byte("Subject: hi\r\n\r\nbody\r\n") }, "message/delivery-status", "message/rfc822", "rfc822; a@example.jp"},
		{"utf-8 address (RFC 6533)", func(d *DSN) { d.Recipients[0].Final = "山田@example.jp" }, "message/global-delivery-status", "message/global-headers", "utf-8; 山田@example.jp"},
		{"no returned part", func(d *DSN) { d.Headers = nil }, "message/delivery-status", "", "rfc822; a@example.jp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := base
			in.Recipients = append([]DSNRecipient(nil), base.Recipients...)
			tc.edit(&in)
			raw := BuildDSN(in)
			if !bytes.Equal(raw, BuildDSN(in)) {
				t.Fatal("output not deterministic")
			}
			if bytes.Contains(bytes.ReplaceAll(raw, []byte("\r\n"), nil), []byte("\n")) {
				t.Error("bare LF in output")
			}
			p := parseDSN(t, raw)
			if p.reportType != "delivery-status" || p.statusType != tc.statusType || p.returnedType != tc.returnedType {
				t.Errorf("types %q %q %q", p.reportType, p.statusType, p.returnedType)
			}
			if p.to != in.To || p.mta != "dns; mx.city.example.jp" || p.arrival != "Thu, 01 Apr 2027 09:29:00 +0900" {
				t.Errorf("to %q mta %q arrival %q", p.to, p.mta, p.arrival)
			}
			if len(p.rcpts) != 2 {
				t.Fatalf("recipients %v", p.rcpts)
			}
			want := map[string]string{"Final-Recipient": tc.final, "Action": "failed", "Status": "5.1.1",
				"Remote-MTA": "dns; mx.example.jp", "Diagnostic-Code": "smtp; 550 5.1.1 <a@example.jp>: user unknown"}
			for k, v := range want {
				if p.rcpts[0][k] != v {
					t.Errorf("%s = %q, want %q", k, p.rcpts[0][k], v)
				}
			}
			if p.rcpts[1]["Original-Recipient"] != "rfc822; B@example.jp" || p.rcpts[1]["Action"] != "delayed" {
				t.Errorf("second recipient %v", p.rcpts[1])
			}
		})
	}
}

func TestBuildDSNKeepsFieldsOnOneLine(t *testing.T) {
	t.Parallel()
	raw := BuildDSN(DSN{To: "x@example.jp", Recipients: []DSNRecipient{{
		Final: "a@example.jp\r\nBcc: evil@example.jp", Action: "failed", Status: "5.1.1",
		Diagnostic: "550 x\nX-Injected: yes",
	}}})
	if bytes.Contains(raw, []byte("\nBcc:")) || bytes.Contains(raw, []byte("\nX-Injected:")) {
		t.Fatalf("field injection:\n%s", raw)
	}
}

func FuzzBuildDSN(f *testing.F) {
	f.Add("a@example.jp", "550 5.1.1 no such user", "bounces+t@example.jp", "Subject: x\r\n")
	f.Add("山田@例え.jp", "452\r\n4.2.2", "b\n@x", "")
	f.Fuzz(func(t *testing.T, rcpt, diag, to, headers string) {
		raw := BuildDSN(DSN{To: to, MessageID: "m@x", Date: time.Unix(0, 0),
			Recipients: []DSNRecipient{{Final: rcpt, Action: "failed", Status: "5.0.0", Diagnostic: diag}},
			Headers:    []byte(headers)})
		e, err := message.Read(bytes.NewReader(raw))
		if err != nil && !message.IsUnknownCharset(err) {
			t.Skip() // odd bytes in To: may not parse; never a panic
		}
		if e != nil && e.Header.Get("Subject") != "Undelivered Mail Returned to Sender" {
			t.Errorf("subject changed: %q", e.Header.Get("Subject"))
		}
		if strings.Contains(diag, "\n") && bytes.Contains(raw, []byte("\n"+strings.SplitN(diag, "\n", 2)[1]+"\r\n")) && strings.SplitN(diag, "\n", 2)[1] != "" {
			t.Errorf("diagnostic broke its line")
		}
	})
}
