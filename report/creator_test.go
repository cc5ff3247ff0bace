package report

import (
	"io"
	"os"
	"path/filepath"
)

// dirCreator is a Creator over a plain directory, for tests that render without a store.
type dirCreator string

func (d dirCreator) Create(rel string) (io.WriteCloser, error) {
	p := filepath.Join(string(d), filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	return os.Create(p)
}
