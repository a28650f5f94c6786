package web

// Action is something a user asks to do. authorize decides, for the admin
// UI and the API alike.
type Action int

// The actions. List-scoped actions take the list they touch.
const (
	ActView         Action = iota // read a list's issues, subscribers, bounces, stats
	ActEdit                       // compose, send, schedule, import into a list
	ActApprove                    // approve or reject an issue of a list
	ActProgressView               // see deadlines × bureaus
	ActProgressEdit               // mark a report submitted
	ActSystemView                 // see schedules
	ActSystemEdit                 // pause or resume schedules
	ActAdmin                      // users, audit log, settings
)

// InternalNewsletter is the slug of the internal newsletter run by the
// coordinator.
const InternalNewsletter = "chonai"

// authorize is the one authorisation rule of kawaraban:
//   - admin may do everything;
//   - viewer may read everything except the admin pages, and change nothing;
//   - editor may read and edit only the lists it is given, and approve
//     there when it is an approver;
//   - coordinator may do what an editor may on the internal newsletter
//     (and any lists it is given), and see and edit the plan's progress.
//
// list is the list slug for list-scoped actions, "" otherwise.
func authorize(u User, act Action, list string) bool {
	switch u.Role {
	case RoleAdmin:
		return true
	case RoleViewer:
		return act == ActView || act == ActProgressView || act == ActSystemView
	case RoleEditor:
		switch act {
		case ActView, ActEdit:
			return list != "" && u.canEdit(list)
		case ActApprove:
			return list != "" && u.Approver && u.canEdit(list)
		}
		return false
	case RoleCoordinator:
		mine := list != "" && (list == InternalNewsletter || u.canEdit(list))
		switch act {
		case ActView, ActEdit:
			return mine
		case ActApprove:
			return mine && u.Approver
		case ActProgressView, ActProgressEdit, ActSystemView:
			return true
		}
		return false
	}
	return false
}

// needsApproval says whether an issue u writes for l must be approved by
// another user before it is sent: when the list asks for it, for everyone
// but admins.
func needsApproval(u User, l List) bool {
	return l.RequireApproval && u.Role != RoleAdmin
}

// editable filters lists to those u may write to: the compose page's
// further lists for a joint issue, the lists a schedule may be for.
func editable(u User, lists []List) []List {
	var out []List
	for _, l := range lists {
		if authorize(u, ActEdit, l.Slug) {
			out = append(out, l)
		}
	}
	return out
}

// visible filters lists to those u may view.
func visible(u User, lists []List) []List {
	var out []List
	for _, l := range lists {
		if authorize(u, ActView, l.Slug) {
			out = append(out, l)
		}
	}
	return out
}
