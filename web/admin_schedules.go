package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kawaraban/newsletter"
	"kawaraban/scheduler"
)

// defaultScheduleTZ is the timezone a new recurring schedule is offered
// with when the server's own zone has no IANA name.
const defaultScheduleTZ = "Asia/Tokyo"

// scheduleRow is a schedule on the schedules page with what the user may
// do to it.
type scheduleRow struct {
	scheduler.Status
	// Spec is the cron spec, or a one-off's instant.
	Spec string
	// List is the list a recurring issue schedule sends for ("" for the
	// system's own schedules and one-off sends).
	List      string
	CanChange bool
}

// scheduleList is the slug of the list a recurring issue schedule sends
// for; "" for the others.
func scheduleList(st scheduler.Status) string {
	if st.Kind == newsletter.JobListRecurring {
		return st.Target
	}
	return ""
}

// scheduleSpec is the cron spec, or a one-off's instant in RFC 3339.
func scheduleSpec(st scheduler.Status) string {
	if st.Spec == "" && !st.At.IsZero() {
		return st.At.Format(time.RFC3339)
	}
	return st.Spec
}

// scheduleForm is the "add a recurring schedule" form's input.
type scheduleForm struct {
	List, Spec, TZ string
}

// schedulesData is the schedules page.
type schedulesData struct {
	Rows []scheduleRow
	// Lists are those the user may add a recurring schedule for.
	Lists []List
	Form  scheduleForm
}

// canSeeSchedules: those who see the system's schedules, and editors of
// some list (who see that list's recurring schedules).
func canSeeSchedules(u User, editable []List) bool {
	return authorize(u, ActSystemView, "") || len(editable) > 0
}

// scheduleVisible says whether u may see st.
func scheduleVisible(u User, st scheduler.Status) bool {
	l := scheduleList(st)
	return authorize(u, ActSystemView, "") || (l != "" && authorize(u, ActView, l))
}

// scheduleChangeable says whether u may pause, resume or remove st:
// those with system rights any, editors the recurring schedules of their
// lists.
func scheduleChangeable(u User, st scheduler.Status) bool {
	l := scheduleList(st)
	return authorize(u, ActSystemEdit, "") || (l != "" && authorize(u, ActEdit, l))
}

// editableLists are the lists u may add a recurring schedule for.
func (s *Server) editableLists(ctx context.Context, u User) ([]List, error) {
	all, err := s.lists(ctx)
	if err != nil {
		return nil, err
	}
	return editable(u, all), nil
}

// visibleSchedules lists the schedules u may see.
func (s *Server) visibleSchedules(ctx context.Context, u User) ([]scheduleRow, error) {
	st, err := s.opt.Schedules.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []scheduleRow
	for _, x := range st {
		if scheduleVisible(u, x) {
			out = append(out, scheduleRow{Status: x, Spec: scheduleSpec(x), List: scheduleList(x), CanChange: scheduleChangeable(u, x)})
		}
	}
	return out, nil
}

// scheduleByID finds a schedule, ErrNotFound if there is none or u may
// not see it.
func (s *Server) scheduleByID(ctx context.Context, u User, id int64) (scheduler.Status, error) {
	all, err := s.opt.Schedules.List(ctx)
	if err != nil {
		return scheduler.Status{}, err
	}
	for _, st := range all {
		if st.ID == id {
			if !scheduleVisible(u, st) {
				return scheduler.Status{}, errForbidden
			}
			return st, nil
		}
	}
	return scheduler.Status{}, ErrNotFound
}

func (s *Server) defaultTZ() string {
	if n := s.opt.Location.String(); n != "" && n != "Local" && n != "UTC" {
		return n
	}
	return defaultScheduleTZ
}

func (s *Server) handleSchedules(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	s.renderSchedules(w, r, sess, v, http.StatusOK, scheduleForm{TZ: s.defaultTZ()})
}

func (s *Server) renderSchedules(w http.ResponseWriter, r *http.Request, sess *session, v *view, code int, form scheduleForm) {
	if s.opt.Schedules == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	lists, err := s.editableLists(r.Context(), sess.user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !canSeeSchedules(sess.user, lists) {
		s.fail(w, r, errForbidden)
		return
	}
	rows, err := s.visibleSchedules(r.Context(), sess.user)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v.Nav, v.Title = "schedules", v.T("nav.schedules")
	v.Data = schedulesData{Rows: rows, Lists: lists, Form: form}
	s.render(w, r, code, "schedules", v)
}

func (s *Server) handleAddSchedule(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if s.opt.Schedules == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	form := scheduleForm{List: r.PostFormValue("list"), Spec: strings.TrimSpace(r.PostFormValue("spec")),
		TZ: strings.TrimSpace(r.PostFormValue("tz"))}
	l, err := s.listBySlug(r.Context(), form.List)
	if err != nil {
		if !authorize(sess.user, ActSystemView, "") && errors.Is(err, ErrNotFound) {
			err = errForbidden // an editor learns nothing about other slugs
		}
		s.fail(w, r, err)
		return
	}
	if !authorize(sess.user, ActEdit, l.Slug) {
		s.fail(w, r, errForbidden)
		return
	}
	st, err := s.addRecurring(r.Context(), l.Slug, form.Spec, form.TZ)
	var ie *InputError
	if errors.As(err, &ie) {
		v.Error = v.Name(ie.MessageJA, ie.Message)
		s.renderSchedules(w, r, sess, v, http.StatusUnprocessableEntity, form)
		return
	} else if err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, sess.user.Login, "schedule.add", fmt.Sprintf("schedule:%d", st.ID), "list:"+l.Slug+" "+st.Spec+" "+st.TZ)
	http.Redirect(w, r, "/admin/schedules", http.StatusSeeOther)
}

// addRecurring checks the spec is there before asking the scheduler.
func (s *Server) addRecurring(ctx context.Context, list, spec, tz string) (scheduler.Status, error) {
	if spec == "" {
		return scheduler.Status{}, &InputError{Field: "spec", Message: "enter when to send (a cron spec)", MessageJA: "実行時期(cron 形式)を入力してください"}
	}
	st, err := s.opt.Schedules.AddRecurring(ctx, list, spec, tz)
	return st, domainErr(err) // the form shows a bad spec or zone next to it
}

func (s *Server) handleScheduleAction(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	if s.opt.Schedules == nil {
		s.errorPage(w, r, http.StatusServiceUnavailable, "err.unavailable")
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.fail(w, r, ErrNotFound)
		return
	}
	if err := s.changeSchedule(r.Context(), sess.user, id, r.PathValue("action")); err != nil {
		s.fail(w, r, err)
		return
	}
	s.audit(r, sess.user.Login, "schedule."+r.PathValue("action"), fmt.Sprintf("schedule:%d", id), "")
	http.Redirect(w, r, "/admin/schedules", http.StatusSeeOther)
}

// changeSchedule pauses, resumes or deletes a schedule u may change.
func (s *Server) changeSchedule(ctx context.Context, u User, id int64, action string) error {
	if action != "pause" && action != "resume" && action != "delete" {
		return ErrNotFound
	}
	st, err := s.scheduleByID(ctx, u, id)
	if errors.Is(err, ErrNotFound) && !authorize(u, ActSystemView, "") {
		return errForbidden
	}
	if err != nil {
		return err
	}
	if !scheduleChangeable(u, st) {
		return errForbidden
	}
	switch action {
	case "pause":
		return s.opt.Schedules.Pause(ctx, id)
	case "resume":
		return s.opt.Schedules.Resume(ctx, id)
	}
	return s.opt.Schedules.Remove(ctx, id)
}
