package mailer

import (
	"bufio"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scripted plays a relay that offers exts, records the
// commands and the DATA body, and answers rcptReply to RCPT.
func scripted(t *testing.T, exts []string, rcptReply string) (*wire, chan []string, chan string) {
	t.Helper()
	client, server := net.Pipe()
	cmds := make(chan []string, 1)
	bodies := make(chan string, 4)
	go func() {
		defer server.Close()
		r := textproto.NewReader(bufio.NewReader(server))
		w := bufio.NewWriter(server)
		say := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
		var seen []string
		defer func() { cmds <- seen }()
		say("220 relay.test ESMTP")
		for {
			line, err := r.ReadLine()
			if err != nil {
				return
			}
			seen = append(seen, line)
			verb := strings.ToUpper(strings.Fields(line + " x")[0])
			switch verb {
			case "EHLO":
				out := "250-relay.test"
				for _, e := range exts {
					out += "\r\n250-" + e
				}
				say(out + "\r\n250 8BITMIME")
			case "MAIL", "RSET":
				say("250 2.0.0 ok")
			case "RCPT":
				say(rcptReply)
			case "DATA":
				if strings.HasPrefix(rcptReply, "2") {
					say("354 go ahead")
					lines, _ := r.ReadDotLines()
					bodies <- strings.Join(lines, "\n")
					say("250 2.0.0 Ok: queued as ABC123")
				} else {
					say("554 5.5.1 no valid recipients")
				}
			case "BDAT":
				// "BDAT n LAST": n bytes follow the command line.
				n, _ := strconv.Atoi(strings.Fields(line)[1])
				chunk := make([]byte, n)
				if _, err := io.ReadFull(r.R, chunk); err != nil {
					return
				}
				if strings.HasPrefix(rcptReply, "2") {
					bodies <- string(chunk)
					say("250 2.0.0 Ok: 7202 bytes queued as BDAT42")
				} else {
					say("554 5.5.1 no valid recipients")
				}
			case "QUIT":
				say("221 bye")
				return
			default:
				say("502 5.5.2 what")
			}
		}
	}()
	w := newWire(client, 2*time.Second)
	if err := w.start(TLSNone, "client.test", nil, Relay{}); err != nil {
		t.Fatal(err)
	}
	return w, cmds, bodies
}

// Relays without CHUNKING get MAIL, RCPT, DATA (pipelined when offered,
// RFC 2920) and a dot-stuffed body (RFC 5321 §4.5.2).
func TestWireDataPaths(t *testing.T) {
	t.Parallel()
	data := ".starts with a dot\r\nline\r\n.\r\n..two\r\nend\r\n"
	for _, exts := range [][]string{{"PIPELINING", "DSN", "SIZE 1000000"}, {"DSN"}, {}} {
		name := strings.Join(exts, ",")
		w, cmds, bodies := scripted(t, exts, "250 2.1.5 ok")
		qid, e, broken := w.send("bounces+x@b.example.jp", `"a..b."@docomo.ne.jp`, []byte(data), chunkOneWrite)
		if e != nil || broken || qid != "ABC123" {
			t.Fatalf("[%s] send = %q, %v, broken %v", name, qid, e, broken)
		}
		body := <-bodies
		if body != strings.ReplaceAll(strings.TrimSuffix(data, "\r\n"), "\r\n", "\n") {
			t.Errorf("[%s] body after dot-unstuffing = %q", name, body)
		}
		w.quit()
		seen := <-cmds
		joined := strings.Join(seen, "|")
		wantDSN := strings.Contains(name, "DSN")
		if strings.Contains(joined, "RET=HDRS") != wantDSN || strings.Contains(joined, "NOTIFY=FAILURE,DELAY") != wantDSN {
			t.Errorf("[%s] DSN parameters wrong: %s", name, joined)
		}
		if strings.Contains(joined, "SUCCESS") || strings.Contains(joined, "SMTPUTF8") {
			t.Errorf("[%s] unexpected parameter: %s", name, joined)
		}
		if !strings.Contains(joined, `RCPT TO:<"a..b."@docomo.ne.jp>`) {
			t.Errorf("[%s] recipient not quoted: %s", name, joined)
		}
	}
}

// A 5xx at RCPT is permanent, names its stage and leaves the connection
// usable (RSET), pipelined or not.
func TestWireRcptRefused(t *testing.T) {
	t.Parallel()
	for _, exts := range [][]string{{"PIPELINING"}, {}} {
		w, cmds, _ := scripted(t, exts, "550 5.1.1 no such user")
		_, e, broken := w.send("a@b.example.jp", "x@example.jp", []byte("hi\r\n"), chunkOneWrite)
		if e == nil || e.Temporary || e.Code != 550 || e.Enhanced != "5.1.1" || e.Stage != StageRcpt || broken {
			t.Errorf("%v: %+v broken %v", exts, e, broken)
		}
		w.quit()
		if seen := <-cmds; !strings.Contains(strings.Join(seen, "|"), "RSET") {
			t.Errorf("%v: no RSET after the refusal: %v", exts, seen)
		}
	}
}

// With CHUNKING and PIPELINING the message goes as one BDAT LAST chunk
// (RFC 3030), unstuffed, in either shape; the split shape names the
// recipient before it sends the chunk.
func TestWireChunkShapes(t *testing.T) {
	t.Parallel()
	data := ".starts with a dot\r\nline\r\n.\r\nend\r\n"
	for _, shape := range []chunkShape{chunkOneWrite, chunkSplit} {
		w, cmds, bodies := scripted(t, []string{"PIPELINING", "CHUNKING", "DSN"}, "250 2.1.5 ok")
		if !w.chunking() {
			t.Fatalf("[%s] chunking() = false", shape)
		}
		qid, e, broken := w.send("bounces+x@b.example.jp", "r@example.jp", []byte(data), shape)
		if e != nil || broken || qid != "BDAT42" {
			t.Fatalf("[%s] send = %q, %v, broken %v", shape, qid, e, broken)
		}
		if body := <-bodies; body != data {
			t.Errorf("[%s] chunk = %q, want the message as is", shape, body)
		}
		w.quit()
		want := []string{"EHLO client.test", "MAIL FROM:<bounces+x@b.example.jp> RET=HDRS", "RCPT TO:<r@example.jp> NOTIFY=FAILURE,DELAY",
			"BDAT " + strconv.Itoa(len(data)) + " LAST", "QUIT"}
		if seen := <-cmds; strings.Join(seen, "|") != strings.Join(want, "|") {
			t.Errorf("[%s] commands %q, want %q", shape, seen, want)
		}
	}
}

// A refused recipient in the split shape: the chunk is never sent, the
// refusal names RCPT, and the connection stays usable after RSET.
func TestWireSplitRcptRefused(t *testing.T) {
	t.Parallel()
	w, cmds, _ := scripted(t, []string{"PIPELINING", "CHUNKING"}, "550 5.1.1 no such user")
	_, e, broken := w.send("a@b.example.jp", "x@example.jp", []byte("hi\r\n"), chunkSplit)
	if e == nil || e.Temporary || e.Code != 550 || e.Stage != StageRcpt || broken {
		t.Errorf("send = %+v, broken %v", e, broken)
	}
	w.quit()
	seen := strings.Join(<-cmds, "|")
	if strings.Contains(seen, "BDAT") || !strings.Contains(seen, "RSET") {
		t.Errorf("commands %s: want RSET and no BDAT", seen)
	}
}

func TestQueueID(t *testing.T) {
	for reply, want := range map[string]string{
		"2.0.0 Ok: queued as 4F2C81A0B":     "4F2C81A0B",
		"Ok: Queued As abc_1.2-3 (more)":    "abc_1.2-3",
		"2.0.0 Ok: queued as ":              "",
		"2.0.0 OK id=1xyz":                  "",
		"":                                  "",
		"queued as":                         "",
		"250 ok queued as X queued as Y":    "X",
		"2.6.0 message queued as <id@host>": "",
	} {
		if got := queueID(reply); got != want {
			t.Errorf("queueID(%q) = %q, want %q", reply, got, want)
		}
	}
}
