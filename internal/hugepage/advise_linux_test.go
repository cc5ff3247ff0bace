package hugepage

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// advised reports whether the kernel marks the first whole huge page inside b for huge pages
// (the VmFlags "hg" of its mapping in /proc/self/smaps).
func advised(t *testing.T, b []byte) bool {
	t.Helper()
	p := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	p = (p + hugeSize - 1) &^ (hugeSize - 1)
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := mapping(line); ok {
			in = lo <= p && p < hi
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.Contains(" "+strings.TrimPrefix(line, "VmFlags:")+" ", " hg ")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("no mapping of %#x in /proc/self/smaps", p)
	return false
}

// mapping parses the range of a mapping's first line ("lo-hi perms ...").
func mapping(line string) (lo, hi uint64, ok bool) {
	r, _, found := strings.Cut(line, " ")
	a, b, found2 := strings.Cut(r, "-")
	if !found || !found2 {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseUint(a, 16, 64)
	hi, err2 := strconv.ParseUint(b, 16, 64)
	return lo, hi, err1 == nil && err2 == nil
}

// kernelMarks reports whether this kernel shows a direct madvise(MADV_HUGEPAGE) of a mapping
// of its own in /proc/self/smaps: what advise must then show too, and, where it does not (no
// transparent huge pages, or a sandboxed kernel that takes the call and marks nothing),
// neither can advise.
func kernelMarks(t *testing.T) bool {
	t.Helper()
	m, err := syscall.Mmap(-1, 0, 2*hugeSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(m)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(m)))
	start := (p + hugeSize - 1) &^ (hugeSize - 1)
	syscall.Syscall(syscall.SYS_MADVISE, start, hugeSize, syscall.MADV_HUGEPAGE)
	return advised(t, m)
}

// TestAdviceReachesTheKernel: a buffer of Make, and a big allocation or reallocation of
// Allocator, are marked for huge pages where the kernel marks a direct madvise so
// (kernelMarks), and not where it marks none; with SETTLE_HUGEPAGES=0 (a process of its
// own, the switch being read at its start) neither is. The tests before it only compared
// bytes, which a wrapper advising nothing passes.
func TestAdviceReachesTheKernel(t *testing.T) {
	if os.Getenv("HUGEPAGE_TEST_CHILD") != "" {
		a := Allocator{Allocator: memory.NewGoAllocator()}
		fmt.Printf("make=%v alloc=%v\n", advised(t, Make(3*Min)), advised(t, a.Allocate(3*Min)))
		return
	}
	thp := kernelMarks(t)
	a := Allocator{Allocator: memory.NewGoAllocator()}
	if got := advised(t, Make(3*Min)); got != thp {
		t.Errorf("Make: advised %v; the kernel marks a direct madvise: %v", got, thp)
	}
	if got := advised(t, a.Allocate(3*Min)); got != thp {
		t.Errorf("Allocator.Allocate: advised %v; the kernel marks a direct madvise: %v", got, thp)
	}
	if got := advised(t, a.Reallocate(3*Min, a.Allocate(10))[10:]); got != thp {
		t.Errorf("Allocator.Reallocate of a small buffer: its new part advised %v; the kernel marks a direct madvise: %v", got, thp)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestAdviceReachesTheKernel$")
	cmd.Env = append(os.Environ(), "HUGEPAGE_TEST_CHILD=1", "SETTLE_HUGEPAGES=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !bytes.Contains(out, []byte("make=false alloc=false\n")) {
		t.Errorf("with SETTLE_HUGEPAGES=0: %s", out)
	}
}
