package bounces_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"kawaraban/bounces"
)

func ExampleUnsubscribeMailto() {
	// tok comes from token.Signer.Sign("unsubscribe", ...).
	fmt.Println(bounces.UnsubscribeMailto("mail.city.example.jp", "AbC-_9"))
	fmt.Println(bounces.JoinAddress("mail.city.example.jp", "kyoiku"))
	// Output:
	// unsubscribe+AbC-_9@mail.city.example.jp
	// kyoiku-join@mail.city.example.jp
}

// ExampleNew shows how cmd/kawaraban wires the reader: the mailer and
// subscribers satisfy the interfaces in Deps.
func ExampleNew() {
	var (
		db   *sql.DB         // from store.Open
		deps bounces.Deps    // VERP, Deliveries, Marker: mailer; Suppressor, Joiner, Unsubscriber: subscribers
		log  *slog.Logger    // chosen by main
		ctx  context.Context // the daemon's root context
	)
	s, err := bounces.New(db, deps, bounces.Options{
		IMAP: bounces.IMAPOptions{
			Addr: "imap.city.example.jp:993", TLS: bounces.TLSImplicit,
			Username: "bounces", Password: "from the environment",
			PollInterval: time.Minute, ProcessedFolder: "Processed", StaffFolder: "Staff",
		},
		Domain: "mail.city.example.jp",
		Logger: log,
	})
	if err != nil {
		return
	}
	go s.Run(ctx) // returns when ctx ends, after logging out
}
