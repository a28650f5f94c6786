package bounces

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Stats counts what one poll did.
type Stats struct {
	Fetched    int // messages fetched
	Bounces    int // new bounces recorded
	Duplicates int // messages recorded before (by Message-ID or UID), or already flagged
	Retried    int // bounces recorded before whose effects failed then and succeeded now
	Commands   int // inbound commands handled
	NotOurs    int // mail left for staff
	Suppressed int // bounces that suppressed or unsubscribed an address
	Alerts     int // policy refusals alerted
	Rescans    int // mailboxes rescanned after a UIDVALIDITY change
}

// PollOnce connects if needed, reads every new message in the configured
// mailboxes, records and acts on it, then flags or moves it. A failure
// drops the connection; the next call reconnects and resumes where the
// stored last UID says, and records nothing twice.
func (s *Service) PollOnce(ctx context.Context) (Stats, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pollLocked(ctx)
}

func (s *Service) pollLocked(ctx context.Context) (Stats, error) {
	var st Stats
	if s.conn == nil {
		cn, err := s.dial(ctx)
		if err != nil {
			return st, err
		}
		s.conn = cn
	}
	cn := s.conn
	select { // this poll covers any news that arrived before it
	case <-cn.update:
	default:
	}
	stop := context.AfterFunc(ctx, func() { cn.c.Close() })
	defer stop()
	// The main mailbox goes last, so that it stays selected for IDLE.
	boxes := []string{s.opt.IMAP.Mailbox}
	if cm := s.opt.IMAP.CommandMailbox; cm != "" && cm != s.opt.IMAP.Mailbox {
		boxes = []string{cm, s.opt.IMAP.Mailbox}
	}
	for _, box := range boxes {
		if err := s.pollMailbox(ctx, cn, box, &st); err != nil {
			cn.c.Close()
			s.conn = nil
			return st, fmt.Errorf("polling imap mailbox %s: %w", box, ctxErr(ctx, err))
		}
	}
	return st, nil
}

// pollMailbox reads the new messages of one mailbox in batches.
func (s *Service) pollMailbox(ctx context.Context, cn *conn, box string, st *Stats) error {
	sel, err := cn.c.Select(box, nil).Wait()
	if err != nil {
		return fmt.Errorf("selecting: %w", err)
	}
	last, err := s.syncState(ctx, box, sel.UIDValidity, st)
	if err != nil {
		return err
	}
	if sel.NumMessages == 0 || sel.UIDNext != 0 && uint32(sel.UIDNext) <= last+1 {
		return nil
	}
	var set imap.UIDSet
	set.AddRange(imap.UID(last+1), 0)
	found, err := cn.c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{set}}, nil).Wait()
	if err != nil {
		return fmt.Errorf("searching new messages: %w", err)
	}
	var uids []imap.UID
	for _, u := range found.AllUIDs() {
		if uint32(u) > last { // n:* always matches the last message (RFC 9051 §6.4.4)
			uids = append(uids, u)
		}
	}
	slices.Sort(uids)
	keyword := canKeyword(sel.PermanentFlags)
	for len(uids) > 0 {
		n := min(len(uids), s.opt.IMAP.FetchBatch)
		if err := s.batch(ctx, cn, box, sel.UIDValidity, uids[:n], keyword, st); err != nil {
			return err
		}
		uids = uids[n:]
	}
	return nil
}

// canKeyword reports whether the mailbox keeps new keywords (RFC 9051
// §7.1: PERMANENTFLAGS includes \*).
func canKeyword(perm []imap.Flag) bool {
	return slices.Contains(perm, imap.FlagWildcard) || slices.Contains(perm, imap.Flag(ProcessedFlag))
}

// batch fetches, ingests and disposes of one batch of messages, then stores
// the last UID done. Work done before a failure is disposed of and kept.
func (s *Service) batch(ctx context.Context, cn *conn, box string, validity uint32, uids []imap.UID, keyword bool, st *Stats) error {
	msgs, err := fetch(cn.c, uids, int64(s.opt.IMAP.MaxFetchBytes))
	if err != nil {
		return err
	}
	var ours, staff []imap.UID
	var done uint32
	var ingestErr error
	for _, m := range msgs {
		st.Fetched++
		if hasKeyword(m.flags, ProcessedFlag) {
			st.Duplicates++
			done = uint32(m.uid)
			continue
		}
		k, err := s.ingest(ctx, source{mailbox: box, uidvalidity: validity, uid: uint32(m.uid)}, m.body, st)
		if err != nil {
			ingestErr = fmt.Errorf("message uid %d: %w", m.uid, err)
			break
		}
		switch k {
		case kindNotOurs:
			staff = append(staff, m.uid)
		default:
			ours = append(ours, m.uid)
		}
		done = uint32(m.uid)
	}
	if err := s.dispose(cn, ours, staff, keyword); err != nil {
		return err
	}
	if done != 0 {
		if err := s.saveLastUID(ctx, box, validity, done); err != nil {
			return err
		}
	}
	return ingestErr
}

// fetched is one message read by fetch.
type fetched struct {
	uid   imap.UID
	flags []imap.Flag
	body  []byte
}

// fetch reads the first maxBytes of the messages uids, in UID order,
// without setting \Seen (BODY.PEEK, RFC 9051 §6.4.5). It
// streams items rather than using Collect: after a connection breaks inside
// a literal, go-imap v2.0.0-beta.8 reads the rest of the literal again from
// the reader goroutine's buffer (a data race), so on such an error the
// client is closed at once and abandoned.
func fetch(c *imapclient.Client, uids []imap.UID, maxBytes int64) ([]fetched, error) {
	cmd := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
		UID: true, Flags: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true, Partial: &imap.SectionPartial{Size: maxBytes}}},
	})
	out := make([]fetched, 0, len(uids))
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var f fetched
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch it := item.(type) {
			case imapclient.FetchItemDataUID:
				f.uid = it.UID
			case imapclient.FetchItemDataFlags:
				f.flags = it.Flags
			case imapclient.FetchItemDataBodySection:
				if it.Literal == nil {
					continue
				}
				b, err := io.ReadAll(it.Literal)
				if err == nil && int64(len(b)) != it.Literal.Size() {
					err = io.ErrUnexpectedEOF // the connection ended inside the literal
				}
				if err != nil {
					c.Close()
					return nil, fmt.Errorf("fetching message body: %w", err)
				}
				f.body = b
			}
		}
		if f.uid != 0 {
			out = append(out, f)
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("fetching messages: %w", err)
	}
	slices.SortFunc(out, func(a, b fetched) int { return int(a.uid) - int(b.uid) })
	return out, nil
}

// hasKeyword reports whether flags holds kw; keywords compare without
// regard to case (RFC 9051 §2.3.2).
func hasKeyword(flags []imap.Flag, kw string) bool {
	for _, f := range flags {
		if strings.EqualFold(string(f), kw) {
			return true
		}
	}
	return false
}

// dispose flags or moves our messages and moves mail that is not ours to
// the staff folder, if there is one. Nothing is ever deleted: without MOVE
// a message is copied and flagged, never expunged.
func (s *Service) dispose(cn *conn, ours, staff []imap.UID, keyword bool) error {
	o := s.opt.IMAP
	if len(ours) > 0 {
		set := imap.UIDSetNum(ours...)
		if o.ProcessedFolder != "" {
			if err := s.moveOrCopy(cn, set, o.ProcessedFolder); err != nil {
				return err
			}
		}
		if o.ProcessedFolder == "" || !cn.move {
			flags := []imap.Flag{imap.FlagSeen}
			if keyword {
				flags = append(flags, imap.Flag(ProcessedFlag))
			}
			err := cn.c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: flags}, nil).Close()
			if err != nil {
				return fmt.Errorf("flagging processed messages: %w", err)
			}
		}
	}
	if len(staff) > 0 && o.StaffFolder != "" {
		if err := s.moveOrCopy(cn, imap.UIDSetNum(staff...), o.StaffFolder); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) moveOrCopy(cn *conn, set imap.UIDSet, folder string) error {
	var err error
	if cn.move {
		_, err = cn.c.Move(set, folder).Wait()
	} else {
		_, err = cn.c.Copy(set, folder).Wait()
	}
	if err != nil {
		return fmt.Errorf("moving messages to %s: %w", folder, err)
	}
	return nil
}

// syncState loads the stored position in box and starts over when the
// server's UIDVALIDITY changed (RFC 9051 §2.3.1.1: old UIDs mean nothing
// now). Records are unique per Message-ID, so a rescan counts nothing twice.
func (s *Service) syncState(ctx context.Context, box string, validity uint32, st *Stats) (uint32, error) {
	var stored, last uint32
	err := s.db.QueryRowContext(ctx, `SELECT uidvalidity, last_uid FROM imap_state WHERE mailbox = ?`, box).Scan(&stored, &last)
	if err == nil && stored == validity {
		return last, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("loading imap state: %w", err)
	}
	if err == nil {
		s.log.Warn("imap UIDVALIDITY changed: rescanning", "mailbox", box, "old", stored, "new", validity)
		st.Rescans++
	}
	return 0, s.saveLastUID(ctx, box, validity, 0)
}

func (s *Service) saveLastUID(ctx context.Context, box string, validity, last uint32) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO imap_state (mailbox, uidvalidity, last_uid, updated) VALUES (?,?,?,?)
		ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,
		updated = excluded.updated`, box, validity, last, s.opt.Now().Unix())
	if err != nil {
		return fmt.Errorf("saving imap state: %w", err)
	}
	return nil
}
