//go:build !linux

package store

import (
	"errors"
	"os"
)

// exchange is not available here: Publish moves a replaced run aside instead.
func exchange(a, b string) error {
	return &os.LinkError{Op: "exchange", Old: a, New: b, Err: errors.ErrUnsupported}
}
