// Package cli is what kawaraban's command line is made of, apart from the
// commands themselves: the exit codes and the errors that choose them, a
// declarative command table that dispatches one- and two-word commands and
// from which the usage text is written, flag sets that report instead of
// exiting, and the small pieces of terminal output (a progress line, a
// boxed notice, a version string, an expiry flag). It knows nothing of
// mail or of the database; cmd/kawaraban fills the table.
package cli
