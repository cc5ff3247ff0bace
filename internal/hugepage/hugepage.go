// Package hugepage asks the kernel to back a big buffer with transparent huge pages before it
// is first written.
//
// On the machines settle is measured on, each fresh 4 KiB page a process touches costs ~2 µs
// (a page fault in a virtual machine): a refresh or a reconcile-only run of a city-day, which
// touches 300–350 MB, spent ~0.17 s of its CPU faulting pages in. With huge pages a buffer of
// 256 MB costs ~30 ms to touch against ~145 ms. The Go runtime does not ask for huge pages
// itself, and where transparent huge pages are enabled only on request (`madvise`, the
// kernel's default) the heap gets none; Advise asks for them under the buffers that are most of
// a run's memory: the inputs, the parse cache, the feeds' Arrow buffers.
//
// It is advice: a kernel without transparent huge pages, or out of them, gives small pages as
// before, and nothing else changes. SETTLE_HUGEPAGES=0 turns it off.
package hugepage

import (
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Min is the smallest buffer Advise asks huge pages for: two of them, so that at least one
// whole huge page lies inside.
const Min = 4 << 20

var off = os.Getenv("SETTLE_HUGEPAGES") == "0"

// Advise asks for huge pages under the whole 2 MiB pages of b. Call it before b is written:
// a page already touched stays as it is.
func Advise(b []byte) {
	if off || len(b) < Min {
		return
	}
	advise(b)
}

// Make is make([]byte, n) with Advise.
func Make(n int) []byte {
	b := make([]byte, n)
	Advise(b)
	return b
}

// ReadFile is os.ReadFile into a buffer with Advise.
func ReadFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return io.ReadAll(f)
	}
	return ReadSized(f, fi.Size())
}

// ReadSized reads r to its end into one buffer with Advise, sized for size bytes (a file's,
// its Stat says) and one more, so that the end is seen without growing it: a file of size
// bytes costs one allocation. A size out of reason is read as io.ReadAll reads.
func ReadSized(r io.Reader, size int64) ([]byte, error) {
	if size < 0 || size >= 1<<31 {
		return io.ReadAll(r)
	}
	b := Make(int(size) + 1)[:0]
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// Allocator is an Arrow allocator whose allocations of Min bytes or more are advised: a
// day's feeds are written into a few big buffers each.
type Allocator struct{ memory.Allocator }

// Allocate allocates size bytes from the allocator it wraps, advised when big.
func (a Allocator) Allocate(size int) []byte {
	b := a.Allocator.Allocate(size)
	Advise(b)
	return b
}

// Reallocate reallocates from the allocator it wraps; a new buffer is advised when big (the
// part copied into it is touched before the advice, the rest not).
func (a Allocator) Reallocate(size int, b []byte) []byte {
	nb := a.Allocator.Reallocate(size, b)
	switch {
	case len(b) == 0:
		Advise(nb)
	case len(nb) > len(b) && &nb[0] != &b[0]:
		Advise(nb[len(b):])
	}
	return nb
}
