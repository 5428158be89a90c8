package server

import (
	"fmt"
	"os"
)

// checkWritable fails unless dir accepts new files: SQLite creates its
// write-ahead log and shared-memory files beside the database, so a
// read-only directory would otherwise surface as SQLite's terse "unable to
// open database file" or "attempt to write a readonly database".
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".sluice-write-check-*")
	if err != nil {
		return fmt.Errorf("server: the data directory %s is not writable (SQLite keeps its database and journal files there): %w", dir, err)
	}
	name := f.Name()
	_ = f.Close()
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("server: the data directory %s does not let files be removed: %w", dir, err)
	}
	return nil
}
