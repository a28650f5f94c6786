package web

// stateCatalog holds the words of states the domain reports that the main
// catalog lacked: a schedule's (scheduler.Status.State: done) and a
// bounce's outcome when it acted on nobody (bounces.OutcomeUnverified).
// Japanese first; tr (catalogs) looks here too.
var stateCatalog = map[string][2]string{
	"sched.done":         {"完了", "done"},
	"outcome.unverified": {"配信との結び付きが確かめられないため、何もしていません", "not tied to a delivery we made: nothing was done"},
}
