package bounces

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Inbound command kinds.
const (
	CommandJoin        = "join"
	CommandUnsubscribe = "unsubscribe"
)

// command is one inbound command mail.
type command struct {
	kind      string
	slug      string // join: the list
	tok       string // unsubscribe: the token
	src       source
	messageID string
	from      string
	automatic bool // Auto-Submitted: never answer it (RFC 3834 §2)
}

// commandFor finds a command address among the envelope recipients.
func (s *Service) commandFor(rh rawHeader) (command, bool) {
	join := s.opt.JoinAddress
	if join == nil {
		join = defaultJoin(s.opt.Domain)
	}
	for _, addr := range rh.envelopeTo {
		if tok, ok := unsubscribeToken(addr, s.opt.Domain); ok && s.opt.Domain != "" {
			return command{kind: CommandUnsubscribe, tok: tok}, true
		}
		if slug, ok := join(addr); ok {
			return command{kind: CommandJoin, slug: slug}, true
		}
	}
	return command{}, false
}

// command acts on an inbound command once per inbound message. A refusal by
// the subscribers package (unknown list, bad token, bad address) is
// recorded as the command's result and not retried; only a cancelled
// context is returned as an error.
func (s *Service) command(ctx context.Context, cmd command, raw []byte, st *Stats) error {
	if err := s.forgetErasedSender(ctx, &cmd); err != nil {
		return err
	}
	key := dedupeKey(cmd.messageID, raw)
	evidence := cmd.messageID
	if evidence == "" {
		evidence = key
	}
	var (
		id      int64
		applied bool
	)
	err := s.db.QueryRowContext(ctx, `SELECT id, applied FROM inbound_commands WHERE dedupe_key = ?`, key).Scan(&id, &applied)
	switch {
	case err == nil && applied:
		st.Duplicates++
		return nil
	case errors.Is(err, sql.ErrNoRows):
		res, err := s.db.ExecContext(ctx, `INSERT INTO inbound_commands
			(received, dedupe_key, message_id, kind, list_slug, mailbox, uidvalidity, uid) VALUES (?,?,?,?,?,?,?,?)
			ON CONFLICT (dedupe_key) DO NOTHING`,
			s.opt.Now().Unix(), key, cmd.messageID, cmd.kind, cmd.slug, cmd.src.mailbox, cmd.src.uidvalidity, cmd.src.uid)
		if err != nil {
			return fmt.Errorf("recording inbound command: %w", err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("recording inbound command: %w", err)
		}
	case err != nil:
		return fmt.Errorf("looking up inbound command: %w", err)
	}
	result := s.dispatch(ctx, cmd, evidence)
	if ctx.Err() != nil {
		return fmt.Errorf("handling inbound %s: %w", cmd.kind, ctx.Err())
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE inbound_commands SET applied = 1, result = ? WHERE id = ?`, result, id); err != nil {
		return fmt.Errorf("recording inbound command result: %w", err)
	}
	st.Commands++
	return nil
}

// dispatch calls subscribers and returns the result in words.
func (s *Service) dispatch(ctx context.Context, cmd command, evidence string) string {
	var err error
	switch {
	case cmd.kind == CommandJoin && cmd.automatic:
		return "ignored: automatic message (RFC 3834), no confirmation sent"
	case cmd.kind == CommandJoin && cmd.from == "":
		return "ignored: no From address"
	case cmd.kind == CommandJoin && s.deps.Joiner == nil:
		return "ignored: joining by mail is not wired"
	case cmd.kind == CommandJoin:
		err = s.deps.Joiner.SubscribeByMail(ctx, cmd.from, cmd.slug, evidence)
	case s.deps.Unsubscriber == nil:
		return "ignored: unsubscribing by mail is not wired"
	default:
		err = s.deps.Unsubscriber.UnsubscribeByToken(ctx, cmd.tok, "mailto", evidence)
	}
	if err != nil {
		s.log.Info("inbound command refused", "kind", cmd.kind, "list", cmd.slug, "msg_id", evidence, "err", err)
		return "refused: " + err.Error()
	}
	s.log.Info("inbound command done", "kind", cmd.kind, "list", cmd.slug, "msg_id", evidence)
	return "ok"
}

// forgetErasedSender takes the sender out of a command's Message-ID when
// the sender's address was erased (ForgetAddress did the same to the row
// of a mail read before the erasure), so that the row records no address
// and the same mail read again is still a duplicate. The command itself
// is done as for anyone: an empty mail from an erased address asks for a
// fresh confirmation.
func (s *Service) forgetErasedSender(ctx context.Context, cmd *command) error {
	if s.deps.Erasures == nil || cmd.from == "" {
		return nil
	}
	_, erased, err := s.deps.Erasures.StillErased(ctx, cmd.from)
	if err != nil {
		return fmt.Errorf("checking whether an inbound command's sender was erased: %w", err)
	}
	if erased {
		cmd.messageID = replaceAddr(cmd.messageID, cmd.from, "[erased]")
	}
	return nil
}
