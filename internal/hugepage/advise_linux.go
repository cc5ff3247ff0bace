package hugepage

import (
	"syscall"
	"unsafe"
)

const hugeSize = 2 << 20

// advise madvises the 2 MiB-aligned inside of b MADV_HUGEPAGE; an error (no transparent huge
// pages) is no matter.
func advise(b []byte) {
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	start := (p + hugeSize - 1) &^ (hugeSize - 1)
	end := (p + uintptr(len(b))) &^ (hugeSize - 1)
	if end <= start {
		return
	}
	syscall.Syscall(syscall.SYS_MADVISE, start, end-start, syscall.MADV_HUGEPAGE)
}
