// Package bounces reads kawaraban's bounce mailbox over IMAP, ties each
// bounce to the delivery it answers, applies the suppression policy and keeps
// a record that explains every decision. The same reader handles the inbound
// commands of Japanese practice: joining a list by an empty mail (空メール)
// and leaving it by mail to the List-Unsubscribe mailto address.
//
// What a message means is decided by the subpackage classify. Who an address
// belongs to, suppression, unsubscription and confirmation mails belong to
// package subscribers; deliveries and VERP tokens to package mailer. This
// package reaches them only through the small interfaces in Deps, which
// cmd/kawaraban fills.
//
// Attribution order (DESIGN.md, flow 4): the VERP token in the bounce's
// envelope recipient (or the signed return path of system mail), then the
// returned message's Message-ID or our own X-Kawaraban-Delivery header,
// then the recipient the report names. Only a report tied to a delivery we
// made to the recipient it is about acts (issue 15, docs/BOUNCE-READER.md);
// the rest is recorded as unverified and changes nothing until staff
// verify it (Service.Verify): anyone can mail the return path.
//
// Policy, each decision recorded in words with the bounce:
//   - hard: suppress once Options.HardThreshold hard bounces arrived since the
//     last successful delivery (default 1);
//   - soft: add 1 to a score that halves every Options.SoftHalfLife and
//     restarts when the previous soft bounce is older than
//     Options.SoftWindow; suppress when it reaches Options.SoftThreshold;
//     NoteDelivered resets it;
//   - complaint (RFC 5965): unsubscribe from every list and suppress;
//   - a refusal with RFC 3463 status 5.7.X (policy, authentication,
//     reputation) suppresses nobody but raises an operator alert;
//   - autoreply, delivered, other: recorded only.
//
// The reader never deletes mail and never touches mail that is not ours: a
// citizen's reply is left unread where it is, or moved to
// IMAPOptions.StaffFolder when one is configured.
package bounces
