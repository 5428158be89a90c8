package sqlitestore

import (
	"os"
	"syscall"
)

// dataSync flushes f's data to the disk: fdatasync, as SQLite itself uses
// on Linux, which skips flushing metadata (such as the modification time)
// that reading the data back does not need.
func dataSync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
