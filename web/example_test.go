package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"

	"kawaraban/store"
	"kawaraban/web"
)

// ExampleNew serves kawaraban's HTTP side over a fresh database. cmd
// connects the application layer and the domain stores with Domain.Fill.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "kawaraban-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "k.db"), store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	srv, err := web.New(web.Options{DB: db, BaseURL: "http://127.0.0.1:8080", LocalMode: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 200 {"status":"ok"}
}

// ExampleUsers shows what `kawaraban user add` and `kawaraban token create`
// do, and local mode's first start.
func ExampleUsers() {
	dir, _ := os.MkdirTemp("", "kawaraban-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "k.db"), store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	users := web.NewUsers(db, web.UsersOptions{})

	pw, created, _ := users.EnsureAdmin(ctx) // prints a one-time password on first start
	fmt.Println(created, len(pw) > 0)

	if err := users.Add(ctx, "shimin", "a long passphrase", "editor", []string{"shimin-katsudo"}); err != nil {
		fmt.Println(err)
		return
	}
	tok, _ := users.CreateToken(ctx, "shimin")
	u, _ := users.ByToken(ctx, tok)
	fmt.Println(strings.HasPrefix(tok, "kwb_"), u.Login, u.Role, u.Lists)
	// Output:
	// true true
	// true shimin editor [shimin-katsudo]
}
