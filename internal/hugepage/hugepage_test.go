package hugepage

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestReadFileIsOSReadFile: the bytes read are os.ReadFile's, for a file below Min (read as
// os.ReadFile reads it), one above it, and an empty one; a missing file is its error.
func TestReadFileIsOSReadFile(t *testing.T) {
	dir := t.TempDir()
	for name, n := range map[string]int{"empty": 0, "small": 1000, "big": Min + 12345} {
		want := make([]byte, n)
		for i := range want {
			want[i] = byte(i*7 + i>>9)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, want, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: ReadFile gave %d bytes unlike the file's %d", name, len(got), len(want))
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}

// TestAllocatorKeepsBytes: allocations of every size through the wrapper are as the wrapped
// allocator's (sized, and balanced: a checked allocator sees every byte freed), and a
// reallocation keeps what was written, from empty, small and big buffers.
func TestAllocatorKeepsBytes(t *testing.T) {
	checked := memory.NewCheckedAllocator(memory.NewGoAllocator())
	a := Allocator{Allocator: checked}
	for _, n := range []int{0, 1, 4096, Min - 1, Min, 3 * Min} {
		b := a.Allocate(n)
		if len(b) != n {
			t.Fatalf("Allocate(%d) gave %d bytes", n, len(b))
		}
		for i := range b {
			b[i] = byte(i)
		}
		for _, m := range []int{n + 10, 2*n + Min} {
			nb := a.Reallocate(m, b)
			if len(nb) != m {
				t.Fatalf("Reallocate(%d) of %d gave %d bytes", m, n, len(nb))
			}
			for i := range n {
				if nb[i] != byte(i) {
					t.Fatalf("Reallocate(%d) of %d lost byte %d", m, n, i)
				}
			}
			b = nb
			n = len(b)
			for i := range b {
				b[i] = byte(i)
			}
		}
		a.Free(b)
	}
	checked.AssertSize(t, 0)
	Advise(nil) // nothing to advise: no panic
	Advise(make([]byte, 10))
}

// TestReadSizedWhateverTheSize: ReadSized gives every byte of the reader whatever size it is
// told, fewer than there are (the buffer grows: a file written on meanwhile), more, none
// (negative) or out of reason, and a reader's error is its error.
func TestReadSizedWhateverTheSize(t *testing.T) {
	want := make([]byte, 100_000)
	for i := range want {
		want[i] = byte(i*7 + i>>9)
	}
	for _, size := range []int64{0, 1, 4095, int64(len(want)) - 1, int64(len(want)), int64(len(want)) + 1, 2 * int64(len(want)), -1, 1 << 40} {
		got, err := ReadSized(iotest.HalfReader(bytes.NewReader(want)), size)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("size %d: gave %d bytes unlike the reader's %d", size, len(got), len(want))
		}
	}
	boom := errors.New("boom")
	if _, err := ReadSized(io.MultiReader(bytes.NewReader(want), iotest.ErrReader(boom)), 10); err != boom {
		t.Errorf("a failing reader: %v, want %v", err, boom)
	}
}
