package web

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// A dry run's uploaded file is kept on the server, so that "import these"
// imports exactly the file that was checked without choosing it again.
// Each staged file belongs to the user who uploaded it and its list; it
// lives at most stagedMaxAge, at most stagedMaxFiles are kept (the oldest
// go first), and it is deleted once imported. Its size is bounded by the
// upload limit (10 MiB).
const (
	stagedMaxAge   = time.Hour
	stagedMaxFiles = 20
	// rejectsShown is how many rejected rows a page lists; the count
	// says how many there are in all.
	rejectsShown = 1000
)

// stagedImport describes a staged file (stored beside it as JSON).
type stagedImport struct {
	List          string    `json:"list"`
	Login         string    `json:"login"`
	ConsentSource string    `json:"consent_source"`
	FileName      string    `json:"file_name"`
	Created       time.Time `json:"created"`
}

var stagedIDRE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// errStagedGone is an "import these" whose file is no longer kept.
var errStagedGone = &InputError{Field: "file",
	Message:   "this check has expired (a checked file is kept for an hour); choose the file again",
	MessageJA: "確認結果の有効期限(1時間)が過ぎたか、すでに取り込み済みです。もう一度ファイルを選んでください。"}

func (s *Server) stagingDir() string {
	if s.opt.ImportStagingDir != "" {
		return s.opt.ImportStagingDir
	}
	return filepath.Join(os.TempDir(), "kawaraban-import-staging")
}

// stageImport keeps f (read from its start) for meta and returns its id.
func (s *Server) stageImport(f io.ReadSeeker, meta stagedImport) (string, error) {
	dir := s.stagingDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("staging import: %w", err)
	}
	s.sweepStaged(dir, stagedMaxFiles-1)
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("staging import: %w", err)
	}
	id := hex.EncodeToString(b[:])
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("staging import: %w", err)
	}
	out, err := os.OpenFile(filepath.Join(dir, id+".csv"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return "", fmt.Errorf("staging import: %w", err)
	}
	_, err = io.Copy(out, f)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	js, _ := json.Marshal(meta)
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, id+".json"), js, 0o600)
	}
	if err != nil {
		s.dropStaged(id)
		return "", fmt.Errorf("staging import: %w", err)
	}
	return id, nil
}

// openStaged returns a staged file of login's; errStagedGone when there is
// none (expired, imported, or someone else's).
func (s *Server) openStaged(id, login string) (stagedImport, *os.File, error) {
	if !stagedIDRE.MatchString(id) {
		return stagedImport{}, nil, errStagedGone
	}
	dir := s.stagingDir()
	s.sweepStaged(dir, stagedMaxFiles)
	var meta stagedImport
	js, err := os.ReadFile(filepath.Join(dir, id+".json"))
	if err == nil {
		err = json.Unmarshal(js, &meta)
	}
	if err != nil || meta.Login != login {
		return stagedImport{}, nil, errStagedGone
	}
	f, err := os.Open(filepath.Join(dir, id+".csv"))
	if err != nil {
		return stagedImport{}, nil, errStagedGone
	}
	return meta, f, nil
}

func (s *Server) dropStaged(id string) {
	dir := s.stagingDir()
	os.Remove(filepath.Join(dir, id+".csv"))
	os.Remove(filepath.Join(dir, id+".json"))
}

// sweepStaged deletes staged files older than stagedMaxAge (by the time
// they were staged), then the oldest until at most keep are left.
func (s *Server) sweepStaged(dir string, keep int) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type staged struct {
		id      string
		created time.Time
	}
	var live []staged
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".csv"); ok {
			// A file whose description was never written (a crash while
			// staging), by the file system's clock.
			_, err := os.Stat(filepath.Join(dir, id+".json"))
			if info, ierr := e.Info(); errors.Is(err, os.ErrNotExist) && ierr == nil && time.Since(info.ModTime()) > time.Minute {
				os.Remove(filepath.Join(dir, e.Name()))
			}
			continue
		}
		id, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		var meta stagedImport
		js, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err == nil {
			err = json.Unmarshal(js, &meta)
		}
		if err != nil || s.now().Sub(meta.Created) > stagedMaxAge {
			s.dropStaged(id)
			continue
		}
		live = append(live, staged{id, meta.Created})
	}
	sort.Slice(live, func(i, j int) bool { return live[i].created.Before(live[j].created) })
	for len(live) > max(keep, 0) {
		s.dropStaged(live[0].id)
		live = live[1:]
	}
}

// importStagedRoutes are the admin routes of "import these".
func (s *Server) importStagedRoutes() map[string]http.HandlerFunc {
	return map[string]http.HandlerFunc{
		"POST /admin/subscribers/import/{id}/run": s.admin(s.handleImportStaged),
	}
}

// handleImportStaged imports the file a dry run checked: "import these".
func (s *Server) handleImportStaged(w http.ResponseWriter, r *http.Request, sess *session, v *view) {
	// The list comes first, as for an upload: who may not import into it
	// gets 403 whatever the id.
	l, mine, ok := s.importList(w, r, sess)
	if !ok {
		return
	}
	id := r.PathValue("id")
	meta, f, err := s.openStaged(id, sess.user.Login)
	if err == nil && meta.List != l.Slug {
		f.Close()
		err = errStagedGone
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer f.Close()
	rep, err := s.opt.SubscriberAdmin.Import(r.Context(), f, ImportOptions{ListSlug: l.Slug,
		ConsentSource: meta.ConsentSource, Actor: sess.user.Login, FileName: meta.FileName})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.dropStaged(id)
	s.audit(r, sess.user.Login, "subscribers.import", "list:"+l.Slug,
		fmt.Sprintf("added %d, existing %d, rejected %d (checked by a dry run first)", rep.Added, rep.Existing(), len(rep.Rejected)))
	s.renderImportReport(w, r, v, mine, l, rep, false, "")
}

// renderImportReport shows the subscribers page with an import's report:
// the counts, the rejected rows with their lines and reasons, and after a
// dry run the "import these" button for staged.
func (s *Server) renderImportReport(w http.ResponseWriter, r *http.Request, v *view, mine []List, l List, rep ImportReport, dry bool, staged string) {
	total := len(rep.Rejected)
	if total > rejectsShown {
		rep.Rejected = rep.Rejected[:rejectsShown]
	}
	v.Nav, v.Title = "subscribers", v.T("nav.subscribers")
	v.Data = subscribersData{Lists: mine, List: l, Report: &rep, DryRun: dry, Page: 1, Imports: s.recent(r.Context(), l.Slug),
		Staged: staged, RejectedTotal: total}
	s.render(w, r, http.StatusOK, "subscribers", v)
}
