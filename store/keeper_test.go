package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/semaphore"

	"settle/connectors"
	"settle/feed"
)

func readOpen(t *testing.T, open func() (io.ReadCloser, error)) ([]byte, io.ReadCloser) {
	t.Helper()
	rc, err := open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b, rc
}

// TestKeeperKeepsBodiesAsTheyArrive: each body kept through a Keeper is written, once Flush
// returns, as inputs/<sha256>.zst holding its bytes; its Open gives them back with their
// sha256 (held in memory, or read from the file and checked); the same bytes twice are one
// file; store.Keep records an input the Keeper kept without opening it; a file altered
// after it was kept fails the Open of a body not held in memory, naming the input.
func TestKeeperKeepsBodiesAsTheyArrive(t *testing.T) {
	for _, held := range []bool{true, false} {
		t.Run(fmt.Sprintf("held=%v", held), func(t *testing.T) {
			s := lockedStore(t)
			k, err := s.Keeper(testDate)
			if err != nil {
				t.Fatal(err)
			}
			if !held {
				k.heldMax = 0
			}
			bodies := map[string][]byte{}
			opens := map[string]func() (io.ReadCloser, error){}
			sums := map[string]string{}
			buf := make([]byte, 0, 64)
			for i := range 40 {
				name := fmt.Sprintf("deposit/TY0001-%02d", i)
				body := fmt.Appendf(nil, "营业厅编码,金额\nTY0001,%d.00\n合计,1\n", i%30) // 10 bodies twice
				bodies[name] = body
				buf = append(buf[:0], body...)
				sum, open, err := k.Keep(name, buf) // buf is reused for the next body
				if err != nil {
					t.Fatal(err)
				}
				want := sha256.Sum256(body)
				if sum != hex.EncodeToString(want[:]) {
					t.Fatalf("%s: sum %s", name, sum)
				}
				clear(buf[:cap(buf)])
				opens[name], sums[name] = open, sum
			}
			if err := k.Flush(); err != nil {
				t.Fatal(err)
			}
			ents, err := os.ReadDir(filepath.Join(s.Dir(), testDate, InputsName))
			if err != nil {
				t.Fatal(err)
			}
			if len(ents) != 30 {
				t.Errorf("%d files kept, want 30 (the distinct bodies)", len(ents))
			}
			dec, _ := zdec()
			for name, body := range bodies {
				z, err := os.ReadFile(filepath.Join(s.Dir(), testDate, InputsName, sums[name]+".zst"))
				if err != nil {
					t.Fatal(err)
				}
				if raw, err := dec.DecodeAll(z, nil); err != nil || !bytes.Equal(raw, body) {
					t.Errorf("%s: the kept file holds other bytes (%v)", name, err)
				}
				got, rc := readOpen(t, opens[name])
				if !bytes.Equal(got, body) {
					t.Errorf("%s: Open gives %q", name, got)
				}
				c, ok := rc.(interface{ SHA256() [32]byte })
				if want := sha256.Sum256(body); !ok || c.SHA256() != want {
					t.Errorf("%s: its reader does not give the sha256", name)
				}
			}
			// Keep records what the Keeper kept without opening it again.
			day := &connectors.Day{Inputs: []connectors.Input{{Feed: feed.Deposit, Name: "deposit/TY0001-00", Counter: "TY0001-00", Pull: true,
				Kept: sums["deposit/TY0001-00"], Size: int64(len(bodies["deposit/TY0001-00"])),
				Open: func() (io.ReadCloser, error) { t.Error("Keep opened a kept input"); return nil, os.ErrClosed }}}}
			kept, err := s.Keep(context.Background(), testDate, day, nil)
			if err != nil {
				t.Fatal(err)
			}
			if ki := kept.Inputs[0]; ki.SHA256 != sums["deposit/TY0001-00"] || ki.Size != int64(len(bodies["deposit/TY0001-00"])) || ki.Feed != "deposit" || !ki.Pull {
				t.Errorf("kept record %+v", ki)
			}
			// An altered file: what is held in memory is as kept; what is read back is checked.
			name := "deposit/TY0001-05"
			p := filepath.Join(s.Dir(), testDate, InputsName, sums[name]+".zst")
			z, _ := zenc()
			if err := os.WriteFile(p, z.EncodeAll([]byte("营业厅编码,金额\nTY0001,999.00\n合计,1\n"), nil), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = opens[name]()
			if held && err != nil {
				t.Errorf("held body: %v", err)
			}
			if !held && (err == nil || !strings.Contains(err.Error(), name)) {
				t.Errorf("altered kept file: Open gives %v, want an error naming %s", err, name)
			}
		})
	}
}

// TestKeeperSkipsWhatIsKept: a second Keeper of the date finds the files the first wrote and
// does not write them again (their modification times stay); a Keeper removes what a killed
// run left half written before it keeps anything.
func TestKeeperSkipsWhatIsKept(t *testing.T) {
	s := lockedStore(t)
	k, err := s.Keeper(testDate)
	if err != nil {
		t.Fatal(err)
	}
	sum, _, err := k.Keep("order/TY0001-01", []byte("a,b\n1,2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Flush(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(s.Dir(), testDate, InputsName)
	p := filepath.Join(dir, sum+".zst")
	if err := os.WriteFile(p, []byte("not zstd"), 0o644); err != nil { // a file written again would be whole
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, tmpPrefix+"half"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	k2, err := s.Keeper(testDate)
	if err != nil {
		t.Fatal(err)
	}
	k2.heldMax = 0
	_, open, err := k2.Keep("order/TY0001-01", []byte("a,b\n1,2\n"))
	if err != nil {
		t.Fatal(err)
	}
	// The folder is listed in the background, before anything is kept.
	if _, err := os.Stat(filepath.Join(dir, tmpPrefix+"half")); !os.IsNotExist(err) {
		t.Errorf("a half-written file is left: %v", err)
	}
	if err := k2.Flush(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "not zstd" {
		t.Errorf("the kept file was written again")
	}
	if _, err := open(); err == nil {
		t.Errorf("an unreadable kept file opened")
	}
}

// TestKeeperWritesAnEmptyFileAgain: a kept file a crash left empty (kept files are made
// durable only at publication) is named by the folder's listing but is not there: Has says
// so, and a Keep of its bytes writes it again, whole; a Keep of the same bytes after that
// finds it (the listing does not stat each file, so this is looked at when asked).
func TestKeeperWritesAnEmptyFileAgain(t *testing.T) {
	s := lockedStore(t)
	body := []byte("a,b\n1,2\n")
	raw := sha256.Sum256(body)
	sum := hex.EncodeToString(raw[:])
	dir := filepath.Join(s.Dir(), testDate, InputsName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, sum+".zst")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	k, err := s.Keeper(testDate)
	if err != nil {
		t.Fatal(err)
	}
	if k.Has(sum) {
		t.Errorf("Has: an empty kept file is there")
	}
	k.heldMax = 0
	if _, _, err := k.Keep("order/TY0001-01", body); err != nil {
		t.Fatal(err)
	}
	if err := k.Flush(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
		t.Fatalf("the empty kept file was not written again: %v", err)
	}
	k2, err := s.Keeper(testDate)
	if err != nil {
		t.Fatal(err)
	}
	if !k2.Has(sum) {
		t.Errorf("Has: the kept file written again is not there")
	}
	_, open, err := k2.Keep("order/TY0001-01", body)
	if err != nil {
		t.Fatal(err)
	}
	if err := k2.Flush(); err != nil {
		t.Fatal(err)
	}
	if b, _ := readOpen(t, open); !bytes.Equal(b, body) {
		t.Errorf("read back %q, want %q", b, body)
	}
}

// TestKeepHandsOnWhatItRead: after Keep has read a file input, the input's first Open gives
// the bytes kept with their sha256 (the engine neither reads the file again nor hashes it),
// even when the file has changed since; a later Open reads the file again.
func TestKeepHandsOnWhatItRead(t *testing.T) {
	s := lockedStore(t)
	src := filepath.Join(t.TempDir(), "deposit.csv")
	body := []byte("营业厅编码,金额\nTY0001,12.00\n合计,1\n")
	if err := os.WriteFile(src, body, 0o644); err != nil {
		t.Fatal(err)
	}
	day := &connectors.Day{Inputs: []connectors.Input{{Feed: feed.Deposit, Name: "deposit.csv",
		Open: func() (io.ReadCloser, error) { return os.Open(src) }}}}
	kept, err := s.Keep(context.Background(), testDate, day, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if kept.Inputs[0].SHA256 != hex.EncodeToString(sum[:]) || kept.Inputs[0].Size != int64(len(body)) {
		t.Fatalf("kept %+v, want sha256 %x and %d bytes", kept.Inputs[0], sum, len(body))
	}
	changed := []byte("changed after it was kept")
	if err := os.WriteFile(src, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	got, rc := readOpen(t, day.Inputs[0].Open)
	if !bytes.Equal(got, body) {
		t.Fatalf("first Open: %q, want the bytes kept %q", got, body)
	}
	c, ok := rc.(interface{ SHA256() [32]byte })
	if !ok || c.SHA256() != sum {
		t.Fatalf("first Open does not give the sha256 of the bytes kept (%T)", rc)
	}
	if got, _ := readOpen(t, day.Inputs[0].Open); !bytes.Equal(got, changed) {
		t.Fatalf("later Open: %q, want the file read again %q", got, changed)
	}
}

// TestKeepAsyncOpensWait: KeepAsync returns before the inputs are read; an input's Open
// waits until the store has read and hashed it, then gives the bytes kept with their sha256;
// an input the store could not read fails wait, naming it, and its Open does not wait for
// ever.
func TestKeepAsyncOpensWait(t *testing.T) {
	s := lockedStore(t)
	release := make(chan struct{})
	input := func(id feed.ID, name string, body []byte, gate chan struct{}, err error) connectors.Input {
		return connectors.Input{Feed: id, Name: name, Open: func() (io.ReadCloser, error) {
			if gate != nil {
				<-gate
			}
			if err != nil {
				return nil, err
			}
			return io.NopCloser(bytes.NewReader(body)), nil
		}}
	}
	deposit := []byte("营业厅编码,金额\nTY0001,12.00\n合计,1\n")
	invoice := []byte("invoice_no,amount\nA1,1.00\n")
	broken := errors.New("disk on fire")
	day := &connectors.Day{Inputs: []connectors.Input{
		input(feed.Deposit, "deposit.csv", deposit, release, nil),
		input(feed.Invoice, "invoice.csv", invoice, nil, nil),
		input(feed.Reversal, "reversal.csv", nil, nil, broken),
	}}
	wait, err := s.KeepAsync(context.Background(), testDate, day, nil)
	if err != nil {
		t.Fatal(err)
	}
	type opened struct {
		b   []byte
		sum [32]byte
		err error
	}
	got := make(chan opened, 1)
	go func() {
		rc, err := day.Inputs[0].Open()
		if err != nil {
			got <- opened{err: err}
			return
		}
		defer rc.Close()
		var o opened
		o.b, o.err = io.ReadAll(rc)
		if c, ok := rc.(interface{ SHA256() [32]byte }); ok {
			o.sum = c.SHA256()
		}
		got <- o
	}()
	if b, _ := readOpen(t, day.Inputs[1].Open); !bytes.Equal(b, invoice) {
		t.Fatalf("invoice: %q, want %q", b, invoice)
	}
	select {
	case <-got:
		t.Fatal("the deposit's Open returned before the store had read it")
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := day.Inputs[2].Open(); err == nil {
		t.Error("the unreadable input opened")
	}
	close(release)
	o := <-got
	if o.err != nil || !bytes.Equal(o.b, deposit) || o.sum != sha256.Sum256(deposit) {
		t.Fatalf("deposit: %q (sha256 %x), %v; want the bytes kept with their sha256", o.b, o.sum, o.err)
	}
	kept, err := wait()
	if err == nil || !strings.Contains(err.Error(), "reversal.csv") || !errors.Is(err, broken) {
		t.Fatalf("wait: %v, %v; want the unreadable reversal.csv named", kept, err)
	}
}

// TestKeepWritesBeforePublish: the inputs Keep writes in the background are on disk when the
// run is published; a write that failed fails the publication, naming the input, and the
// date's lock can be released and taken again.
func TestKeepWritesBeforePublish(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("fail=%v", fail), func(t *testing.T) {
			if fail {
				writeKeptLater = func(string, string, []byte) error { return errors.New("disk full") }
				defer func() { writeKeptLater = writeKept }()
			}
			s, err := Open(filepath.Join(t.TempDir(), "store"))
			if err != nil {
				t.Fatal(err)
			}
			unlock, err := s.Lock(context.Background(), testDate, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			var day connectors.Day
			for i := range 20 {
				day.Inputs = append(day.Inputs, connectors.Input{Feed: feed.Deposit, Name: fmt.Sprintf("deposit/%02d.csv", i),
					Open: connectors.Bytes(bytes.Repeat([]byte(fmt.Sprintf("TY%04d,1.00\n", i)), 20_000))})
			}
			kept, err := s.Keep(context.Background(), testDate, &day, nil)
			if err != nil {
				t.Fatal(err)
			}
			run, err := s.Begin(testDate, "r1")
			if err != nil {
				t.Fatal(err)
			}
			err = run.Publish()
			switch {
			case fail && (err == nil || !strings.Contains(err.Error(), "disk full") || !strings.Contains(err.Error(), "deposit/")):
				t.Fatalf("Publish after a failed write: %v, want it to fail naming the input", err)
			case !fail && err != nil:
				t.Fatal(err)
			}
			if !fail {
				for _, in := range kept.Inputs {
					if _, err := os.Stat(filepath.Join(s.dir, testDate, InputsName, in.SHA256+".zst")); err != nil {
						t.Errorf("published before %s was kept: %v", in.Name, err)
					}
				}
			}
			run.Abort()
			if err := unlock(); err != nil {
				t.Fatal(err)
			}
			unlock, err = s.Lock(context.Background(), testDate, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer unlock()
			if _, err := s.Keep(context.Background(), testDate, &connectors.Day{}, nil); err != nil {
				t.Errorf("Keep after the lock was released and taken again: %v", err)
			}
		})
	}
}

// TestKeepQueueFull: when more raw bytes wait to be written than the queue holds, Keep
// writes them as it goes (it does not wait for itself) and every input is kept.
func TestKeepQueueFull(t *testing.T) {
	saved := keepQueue
	keepQueue = semaphore.NewWeighted(2000) // three of the inputs below
	defer func() { keepQueue = saved }()
	s := lockedStore(t)
	var day connectors.Day
	for i := range 30 {
		day.Inputs = append(day.Inputs, connectors.Input{Feed: feed.Deposit, Name: fmt.Sprintf("deposit/%02d.csv", i),
			Open: connectors.Bytes(bytes.Repeat([]byte{byte('a' + i%26), byte(i)}, 300))})
	}
	kept, err := s.Keep(context.Background(), testDate, &day, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.keptWritten(testDate); err != nil {
		t.Fatal(err)
	}
	for _, in := range kept.Inputs {
		if _, err := os.Stat(filepath.Join(s.dir, testDate, InputsName, in.SHA256+".zst")); err != nil {
			t.Errorf("%s not kept: %v", in.Name, err)
		}
	}
}

// TestKeeperListingFails: a kept-inputs folder that cannot be listed (EMFILE, EIO) keeps
// nothing and says so: Keep, Listed and Flush return the error (the run fails), never a
// silent run with every body held in memory.
func TestKeeperListingFails(t *testing.T) {
	s := lockedStore(t)
	boom := errors.New("too many open files")
	was := listDir
	listDir = func(string) ([]os.DirEntry, error) { return nil, boom }
	defer func() { listDir = was }()
	k, err := s.Keeper(testDate)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := k.Keep("order/TY0001-01", []byte("a,b\n1,2\n")); !errors.Is(err, boom) {
		t.Errorf("Keep: %v, want the listing's error", err)
	}
	if k.Has(strings.Repeat("0", 64)) {
		t.Error("Has says a file is kept in a folder that could not be listed")
	}
	if err := k.Listed(); !errors.Is(err, boom) {
		t.Errorf("Listed: %v", err)
	}
	if err := k.Flush(); !errors.Is(err, boom) {
		t.Errorf("Flush: %v, want the listing's error", err)
	}
}
