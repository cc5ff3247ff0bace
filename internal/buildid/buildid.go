// Package buildid identifies the running program, for caches and content keys that are
// valid only for the build that made them (engine's parse cache, the feeds' Parquet keys).
package buildid

import (
	"crypto/sha256"
	"debug/elf"
	"os"
	"sync"
)

// ID returns the running program's Go build ID (its ELF note), or the sha256 of the
// executable when it has none; nil when neither can be read (then nothing may be cached).
var ID = sync.OnceValue(func() []byte {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	if f, err := elf.Open(exe); err == nil {
		defer f.Close()
		if s := f.Section(".note.go.buildid"); s != nil {
			if b, err := s.Data(); err == nil && len(b) > 16 {
				return b
			}
		}
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		return nil
	}
	sum := sha256.Sum256(b)
	return sum[:]
})
