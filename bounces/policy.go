package bounces

import (
	"fmt"
	"math"
	"strings"
	"time"

	"kawaraban/bounces/classify"
)

// Outcomes of the policy, stored with each bounce.
const (
	OutcomeNone         = "none"         // recorded only
	OutcomeScored       = "scored"       // counted toward suppression
	OutcomeSuppressed   = "suppressed"   // the address was suppressed
	OutcomeUnsubscribed = "unsubscribed" // complaint: unsubscribed from all lists and suppressed
	OutcomeAlert        = "alert"        // the receiver refused us; operator alerted
	// OutcomeUnverified: the report is not tied to a delivery we made, so
	// it changed nothing; staff may verify it (Service.Verify).
	OutcomeUnverified = "unverified"
)

// scores is a row of bounce_scores, with the run of soft refusals that
// leads to it.
type scores struct {
	hard        int
	soft        float64
	softUpdated time.Time
	// softSince is the first soft refusal of the current run (soft
	// refusals with no successful delivery and no quiet SoftWindow between
	// them) and softRun how many it holds; both before this bounce.
	softSince time.Time
	softRun   int
}

// decision is what the policy does about one bounce.
type decision struct {
	outcome     string
	rule        string // in words, for staff
	reason      string // suppression reason, when suppressing
	unsubscribe bool
	alert       bool
	markBounced bool
}

// isPolicyRefusal reports an RFC 3463 §3.8 X.7.X status on a permanent
// failure: security or policy (blocked, SPF/DKIM/DMARC, reputation). The
// receiver refused the sender, which says nothing about the address.
func isPolicyRefusal(status string) bool {
	return strings.HasPrefix(status, "5.7.")
}

// recipientSide reports reasons that are about the recipient's mailbox or
// own settings rather than about our sender: a 5.7.x refusal for one of
// these (a carrier's 指定受信 filter answering 5.7.1) is a soft bounce of
// that address, not a block of our mail.
func recipientSide(reason string) bool {
	switch reason {
	case classify.ReasonFiltered, classify.ReasonSuspend, classify.ReasonMailboxFull, classify.ReasonExceedLimit:
		return true
	}
	return false
}

// decide applies the policy to one bounce for an address whose counters are
// sc, updating sc. It is pure: the caller stores sc and the decision.
func (s *Service) decide(ev *event, sc *scores) decision {
	now := ev.received
	failed := ev.action != "delayed"
	switch {
	case ev.email == "":
		return decision{outcome: OutcomeNone, rule: "no recipient address found: recorded only"}
	case isErasedKey(ev.email):
		// Its subscriptions went with the erasure, and a suppression or
		// opt-out it had is kept under the same key (subscribers).
		return decision{outcome: OutcomeNone,
			rule: "the address was erased at its owner's request: recorded under its keyed hash only, without the message or its diagnostic; nothing to suppress or unsubscribe"}
	case ev.class == classify.Complaint:
		ft := ev.feedbackType
		if ft == "" {
			ft = "unspecified"
		}
		return decision{outcome: OutcomeUnsubscribed, reason: ReasonComplaint, unsubscribe: true,
			rule: fmt.Sprintf("complaint (RFC 5965, feedback type %s): unsubscribed from all lists and suppressed", ft)}
	case (ev.class == classify.Hard || ev.class == classify.Soft) && isPolicyRefusal(ev.status) &&
		!(ev.class == classify.Soft && recipientSide(ev.reason)):
		return decision{outcome: OutcomeAlert, alert: true, markBounced: true,
			rule: fmt.Sprintf("status %s is a policy, authentication or reputation refusal (RFC 3463 X.7.X): the receiver blocked our mail, not the address; not suppressed, operator alerted", ev.status)}
	case ev.class == classify.Hard:
		sc.hard++
		if sc.hard >= s.opt.HardThreshold {
			return decision{outcome: OutcomeSuppressed, reason: ReasonHardBounce, markBounced: true,
				rule: fmt.Sprintf("hard bounce (status %s): %d of threshold %d since the last successful delivery: suppressed", orUnknown(ev.status), sc.hard, s.opt.HardThreshold)}
		}
		return decision{outcome: OutcomeScored, markBounced: true,
			rule: fmt.Sprintf("hard bounce (status %s): %d of threshold %d since the last successful delivery: not yet suppressed", orUnknown(ev.status), sc.hard, s.opt.HardThreshold)}
	case ev.class == classify.Soft && !failed:
		return decision{outcome: OutcomeNone, rule: "delay notice (RFC 3464 Action: delayed): the remote MTA is still trying; recorded only"}
	case ev.class == classify.Soft:
		prev := s.decay(sc, now)
		sc.soft = prev + 1
		sc.softUpdated = now
		if prev == 0 || sc.softSince.IsZero() {
			// The score restarted: so does the run.
			sc.softSince, sc.softRun = now, 0
		}
		sc.softRun++
		rule := fmt.Sprintf("soft bounce (status %s%s): score %.2f (previous %.2f halved every %s, restarted after %s without soft bounces)",
			orUnknown(ev.status), reasonClause(ev.reason), sc.soft, prev, days(s.opt.SoftHalfLife), days(s.opt.SoftWindow))
		if sc.soft >= s.opt.SoftThreshold {
			return decision{outcome: OutcomeSuppressed, reason: ReasonHardBounce, markBounced: true,
				rule: rule + fmt.Sprintf(" reached threshold %.2f: suppressed", s.opt.SoftThreshold)}
		}
		if span := now.Sub(sc.softSince); sc.softRun >= 2 && span >= s.opt.SoftPersist {
			// A refusal that repeats (a filter that refuses every issue)
			// ends in suppression even when issues are too far apart for
			// the score to add up.
			return decision{outcome: OutcomeSuppressed, reason: ReasonHardBounce, markBounced: true,
				rule: rule + fmt.Sprintf("; refused %d times in a row since %s (%s, no delivery since and never %s apart), at least %s: suppressed",
					sc.softRun, sc.softSince.UTC().Format("2006-01-02"), days(span.Truncate(24*time.Hour)), days(s.opt.SoftWindow), days(s.opt.SoftPersist))}
		}
		return decision{outcome: OutcomeScored, markBounced: true,
			rule: rule + fmt.Sprintf(" below threshold %.2f: not suppressed", s.opt.SoftThreshold)}
	case ev.class == classify.AutoReply:
		return decision{outcome: OutcomeNone, rule: "auto-reply (RFC 3834): never a bounce; recorded only"}
	case ev.class == classify.Delivered:
		return decision{outcome: OutcomeNone, rule: "delivery or relay notification (RFC 3464): recorded only"}
	}
	return decision{outcome: OutcomeNone, rule: "not a recognised bounce: recorded only"}
}

// acts reports whether d changes anything beyond the bounce's own record.
func (d decision) acts() bool {
	return d.reason != "" || d.unsubscribe || d.alert || d.markBounced
}

// unverified decides about a report that is not tied to a delivery we made
// (no VERP token of ours, no Message-ID of a delivery to the recipient it
// names). Anyone can mail the return path printed in every issue, so such a
// report suppresses nobody, unsubscribes nobody and counts toward nothing:
// it is recorded with what the policy would have done, for staff to judge.
// sc is a copy; the scores are not saved.
func (s *Service) unverified(ev *event, sc scores) decision {
	would := s.decide(ev, &sc)
	if !would.acts() {
		return would
	}
	why := "no VERP token of ours and no Message-ID of a delivery to the recipient it names"
	if ev.claim != "" {
		why = ev.claim
	}
	return decision{outcome: OutcomeUnverified,
		rule: "unverified report (" + why + "): nothing changed until staff verify it; verified, the policy would say: " + would.rule}
}

// decay returns the soft score at now: halved every SoftHalfLife, and zero
// when the last soft bounce is older than SoftWindow.
func (s *Service) decay(sc *scores, now time.Time) float64 {
	if sc.soft == 0 || sc.softUpdated.IsZero() {
		return 0
	}
	age := now.Sub(sc.softUpdated)
	if age > s.opt.SoftWindow {
		return 0
	}
	if age <= 0 {
		return sc.soft
	}
	return sc.soft * math.Pow(0.5, float64(age)/float64(s.opt.SoftHalfLife))
}

// reasonClause puts a classifier reason into a rule: ", reason filtered".
func reasonClause(reason string) string {
	if reason == "" {
		return ""
	}
	return ", reason " + reason
}

func orUnknown(status string) string {
	if status == "" {
		return "unknown"
	}
	return status
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
