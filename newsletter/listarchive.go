package newsletter

import "kawaraban/subscribers"

// archiveURL is url, or "" when an admin turned the list's public archive
// off (issue 17): the mail then links to no back numbers.
func archiveURL(l subscribers.List, url string) string {
	if l.ArchiveOff {
		return ""
	}
	return url
}
