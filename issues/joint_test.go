package issues

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"kawaraban/internal/testclock"
)

// send takes an issue through send now, sending and sent.
func send(t *testing.T, s *Store, c *testclock.Clock, id int64) Issue {
	t.Helper()
	ctx := context.Background()
	var is Issue
	for _, f := range []func() (Issue, error){
		func() (Issue, error) { return s.SendNow(ctx, id, editor) },
		func() (Issue, error) { return s.MarkSending(ctx, id, editor) },
		func() (Issue, error) { return s.MarkSent(ctx, id, editor) },
	} {
		c.Add(time.Second)
		var err error
		if is, err = f(); err != nil {
			t.Fatal(err)
		}
	}
	return is
}

// TestJointIssueNumbersAndListings: issue 17. A joint issue is numbered
// in each list's own sequence, is listed and archived under each list, and
// keeps its lead in ListID.
func TestJointIssueNumbersAndListings(t *testing.T) {
	t.Parallel()
	s, c := newStore(t)
	ctx := context.Background()
	mk := func(lists ...int64) Issue {
		t.Helper()
		is, err := s.Create(ctx, Draft{ListID: lists[0], ListIDs: lists, Subject: "s", BodyMarkdown: "b", Author: "ed"})
		if err != nil {
			t.Fatal(err)
		}
		return is
	}
	a1 := send(t, s, c, mk(1).ID) // list 1: 第1号
	b1 := send(t, s, c, mk(2).ID) // list 2: 第1号
	b2 := send(t, s, c, mk(2).ID) // list 2: 第2号
	j := mk(1, 2)
	if !j.Joint() || j.ListID != 1 || !slices.Equal(j.ListIDs(), []int64{1, 2}) || j.Number != 0 {
		t.Fatalf("joint draft = %+v", j)
	}
	j = send(t, s, c, j.ID)
	if j.Number != 2 || j.NumberOn(1) != 2 || j.NumberOn(2) != 3 || j.NumberOn(9) != 0 {
		t.Fatalf("joint numbers = %d %+v", j.Number, j.Lists)
	}
	after := send(t, s, c, mk(2).ID)
	if after.Number != 4 {
		t.Fatalf("list 2's next number = %d, want 4", after.Number)
	}
	if a1.Number != 1 || b1.Number != 1 || b2.Number != 2 {
		t.Fatalf("single numbers %d %d %d", a1.Number, b1.Number, b2.Number)
	}
	for list, want := range map[int64][]int64{1: {j.ID, a1.ID}, 2: {after.ID, j.ID, b2.ID, b1.ID}} {
		var got []int64
		iss, err := s.Archive(ctx, list, 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, is := range iss {
			got = append(got, is.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Archive(%d) = %v, want %v", list, got, want)
		}
		all, _ := s.ListByList(ctx, list, Page{})
		if len(all) != len(want) {
			t.Errorf("ListByList(%d) = %d issues, want %d", list, len(all), len(want))
		}
	}
}

func TestJointDraftValidates(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	ctx := context.Background()
	for name, lists := range map[string][]int64{
		"lead not first": {2, 1},
		"twice":          {1, 2, 2},
		"zero":           {1, 0},
	} {
		_, err := s.Create(ctx, Draft{ListID: 1, ListIDs: lists, Subject: "s", Author: "ed"})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	is, err := s.Create(ctx, Draft{ListID: 1, Subject: "s", Author: "ed", DuplicateOf: 7})
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := s.Events(ctx, is.ID)
	if len(evs) != 1 || evs[0].Comment != "duplicate of issue 7" || is.Joint() {
		t.Fatalf("events = %+v", evs)
	}
}
