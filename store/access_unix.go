//go:build unix

package store

import "syscall"

// writable reports why path (a file or directory) cannot be written, or
// nil: EROFS on a read-only mount, EACCES for permissions.
func writable(path string) error {
	return syscall.Access(path, 2 /* W_OK */)
}
