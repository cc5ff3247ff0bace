package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	errBoom := errors.New("boom")
	text := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	fail := func(w io.Writer) error { io.WriteString(w, "half"); return errBoom }
	for _, tc := range []struct {
		name     string
		old      string // "" for no file at the path
		fn       func(string, fs.FileMode, func(io.Writer) error) error
		write    func(io.Writer) error
		perm     fs.FileMode
		want     string // the file afterwards
		wantMode fs.FileMode
		wantErr  error
	}{
		{name: "write new", fn: Write, write: text("new\n"), perm: 0o600, want: "new\n", wantMode: 0o600},
		{name: "write new 0644", fn: Write, write: text("new\n"), perm: 0o644, want: "new\n", wantMode: 0o644},
		{name: "write replaces", old: "old\n", fn: Write, write: text("new\n"), perm: 0o600, want: "new\n", wantMode: 0o600},
		{name: "write fails", old: "old\n", fn: Write, write: fail, perm: 0o600, want: "old\n", wantMode: 0o644, wantErr: errBoom},
		{name: "write fails, no file", fn: Write, write: fail, perm: 0o600, wantErr: errBoom},
		{name: "create new", fn: Create, write: text("new\n"), perm: 0o600, want: "new\n", wantMode: 0o600},
		{name: "create exists", old: "old\n", fn: Create, write: text("new\n"), perm: 0o600, want: "old\n", wantMode: 0o644, wantErr: fs.ErrExist},
		{name: "create fails", fn: Create, write: fail, perm: 0o600, wantErr: errBoom},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f.txt")
			if tc.old != "" {
				if err := os.WriteFile(path, []byte(tc.old), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := tc.fn(path, tc.perm, tc.write)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			got, rerr := os.ReadFile(path)
			switch {
			case tc.want == "" && !errors.Is(rerr, fs.ErrNotExist):
				t.Errorf("the file is there (%q, %v), want none", got, rerr)
			case tc.want != "" && (rerr != nil || string(got) != tc.want):
				t.Errorf("file = %q (%v), want %q", got, rerr, tc.want)
			}
			if tc.want != "" {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != tc.wantMode {
					t.Errorf("mode = %04o, want %04o", fi.Mode().Perm(), tc.wantMode)
				}
			}
			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
			}
			wantN := 1
			if tc.want == "" {
				wantN = 0
			}
			if len(names) != wantN {
				t.Errorf("directory holds %q, want only the file (no temporary left)", names)
			}
		})
	}
}

// TestWriteNoDir: a missing directory fails with fs.ErrNotExist and creates nothing.
func TestWriteNoDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "f.txt")
	err := Write(path, 0o600, func(io.Writer) error { return nil })
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want fs.ErrNotExist", err)
	}
}
