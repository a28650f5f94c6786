package web

// scheduleCatalog holds the schedule states' words (scheduler.Status.State:
// active, paused, done), Japanese first. tr looks here after catalog.
var scheduleCatalog = map[string][2]string{
	"sched.done": {"完了", "done"},
}
