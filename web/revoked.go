package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"settle/internal/atomicfile"
	"settle/internal/flock"
)

// RevokedName is the file in the store of the sessions logged out before they expired, mode
// 0600: one line "<digest> <expiry>" per logout, the digest being the first 16 bytes of the
// sha256 of the session's nonce (hex) and the expiry in Unix seconds. Every server over the
// store reads it at start and again whenever it grew, so a logout survives a restart and ends
// the session on every server. Lines of sessions that expired are dropped when a server
// starts; a torn last line (a logout cut short) is ignored and dropped then too.
const RevokedName = "web.revoked"

// revocations are the sessions logged out, read from and appended to RevokedName. Writers
// (a logout, a server's start) hold an flock on RevokedName+".lock".
type revocations struct {
	path string
	now  func() time.Time
	log  *slog.Logger

	mu     sync.Mutex
	m      map[string]time.Time // digest → expiry
	offset int64                // bytes of the file read (whole lines)
	file   os.FileInfo          // the file offset is in; another (a compaction renamed over it) is read whole
	held   *os.File             // that file, kept open so that its inode cannot be reused by another

	write func(f *os.File, line []byte) (int, error) // appends a line; nil is f.Write (tests fail it)
}

// openRevocations reads the file at path, dropping the expired lines.
func openRevocations(path string, now func() time.Time, log *slog.Logger) (*revocations, error) {
	v := &revocations{path: path, now: now, log: log, m: map[string]time.Time{}}
	if err := v.locked(v.compact); err != nil {
		return nil, fmt.Errorf("read logged-out sessions %q: %w", path, err)
	}
	return v, nil
}

func nonceDigest(nonce string) string {
	sum := sha256.Sum256([]byte(nonce))
	return hex.EncodeToString(sum[:16])
}

// locked calls fn holding the lock file.
func (v *revocations) locked(fn func() error) error {
	return flock.Locked(v.path+".lock", fn)
}

// parse reads the whole lines of data into v.m and returns the bytes they take and whether
// a line did not parse (only the last may: what a failed append left).
func (v *revocations) parse(data []byte) (int64, bool) {
	whole := data[:bytes.LastIndexByte(data, '\n')+1]
	torn := len(whole) < len(data)
	for _, line := range strings.Split(strings.TrimSuffix(string(whole), "\n"), "\n") {
		if line == "" {
			continue
		}
		digest, exp, ok := strings.Cut(line, " ")
		secs, err := strconv.ParseInt(exp, 10, 64)
		if !ok || len(digest) != 32 || err != nil {
			torn = true
			continue
		}
		v.m[digest] = time.Unix(secs, 0)
	}
	return int64(len(whole)), torn
}

// compact reads the whole file and, when a line expired or did not parse, writes it again
// without them (a temporary file renamed over it). The lock is held.
func (v *revocations) compact() error {
	f, err := os.Open(v.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	var data []byte
	if err == nil {
		data, err = io.ReadAll(f)
	}
	if err != nil {
		f.Close()
		return err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	n, torn := v.parse(data)
	now := v.now()
	var keep bytes.Buffer
	dropped := 0
	for d, exp := range v.m {
		if !now.Before(exp) {
			delete(v.m, d)
			dropped++
			continue
		}
		fmt.Fprintf(&keep, "%s %d\n", d, exp.Unix())
	}
	if dropped == 0 && !torn {
		v.hold(f, fi, n)
		return nil
	}
	f.Close()
	if torn {
		v.log.Warn("logged-out sessions: dropped a line that does not parse (a logout cut short)", "path", v.path)
	}
	err = atomicfile.Write(v.path, 0o600, func(w io.Writer) error {
		_, err := w.Write(keep.Bytes())
		return err
	})
	if err != nil {
		return err
	}
	// Under the lock nobody else replaces the file: what is at the path is what we wrote.
	if f, err = os.Open(v.path); err == nil {
		if fi, err = f.Stat(); err != nil {
			f.Close()
		}
	}
	if err != nil {
		return err
	}
	v.hold(f, fi, int64(keep.Len()))
	return nil
}

// hold makes f, of info fi, the file read from, n bytes of it read; v.mu is held.
func (v *revocations) hold(f *os.File, fi os.FileInfo, n int64) {
	if v.held != nil {
		v.held.Close()
	}
	v.held, v.file, v.offset = f, fi, n
}

// refresh reads what other servers appended since the last read; v.mu is held. Another
// file at the path (a server that started compacted it: a new file renamed over the old one,
// of any size) or a file that shrank is read again whole; the logouts already read are kept.
func (v *revocations) refresh() error {
	fi, err := os.Stat(v.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if v.held == nil || !os.SameFile(fi, v.file) {
		f, err := os.Open(v.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err == nil {
			if fi, err = f.Stat(); err != nil {
				f.Close()
			}
		}
		if err != nil {
			return err
		}
		v.hold(f, fi, 0)
	} else if fi.Size() < v.offset {
		v.offset = 0
	}
	if fi.Size() <= v.offset {
		return nil
	}
	buf := make([]byte, fi.Size()-v.offset)
	n, err := v.held.ReadAt(buf, v.offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	read, _ := v.parse(buf[:n])
	v.offset += read
	return nil
}

// add records a logout: the session is refused at once here, and on every server once the
// line is in the file. The error is the file's: the session is still refused by this server.
func (v *revocations) add(nonce string, exp time.Time) error {
	d := nonceDigest(nonce)
	v.mu.Lock()
	v.m[d] = exp
	v.mu.Unlock()
	line := fmt.Appendf(nil, "%s %d\n", d, exp.Unix())
	err := v.locked(func() error { return v.appendLine(line) })
	if err != nil {
		return fmt.Errorf("record logout in %q: %w", v.path, err)
	}
	return nil
}

// appendLine appends line to the file; the lock is held. A file not ending in a newline
// (torn bytes of a writer that died) gets one first, so the line parses. A write that fails
// or falls short is cut back to the size before it, so the next line is not glued onto its
// bytes; a reader never takes those bytes, which end in no newline. A whole line whose fsync
// failed is left: readers may have read it, and it is a true logout.
func (v *revocations) appendLine(line []byte) error {
	f, err := os.OpenFile(v.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	if size > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, size-1); err != nil {
			return err
		}
		if last[0] != '\n' {
			line = append([]byte{'\n'}, line...)
		}
	}
	write := v.write
	if write == nil {
		write = (*os.File).Write
	}
	n, err := write(f, line)
	if err == nil && n < len(line) {
		err = io.ErrShortWrite
	}
	if err != nil {
		if n > 0 {
			if terr := f.Truncate(size); terr != nil {
				return fmt.Errorf("%w; cutting it back: %v", err, terr)
			}
		}
		return err
	}
	return f.Sync()
}

// has reports whether the session of nonce was logged out, here or by another server.
func (v *revocations) has(nonce string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := v.refresh(); err != nil {
		v.log.Error("logged-out sessions", "path", v.path, "err", err)
	}
	_, ok := v.m[nonceDigest(nonce)]
	return ok
}
