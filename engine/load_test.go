package engine

import (
	"bytes"
	"io"
	"testing"

	"settle/connectors"
)

// sizedReader is an input that tells its size but offers no buffer to share.
type sizedReader struct{ *bytes.Reader }

func (sizedReader) Close() error { return nil }

func TestReadInput(t *testing.T) {
	// 100 bytes short of a multiple of the allocator's 8 KiB pages: room for the input alone
	// leaves less than bytes.MinRead free.
	text := bytes.Repeat([]byte("x"), 13*8192-100)
	shared := connectors.Input{Name: "shared.csv", Open: connectors.Bytes(text)}
	got, _, err := readInput(shared)
	if err != nil || !bytes.Equal(got, text) || &got[0] != &text[0] {
		t.Errorf("connectors.Bytes input: a copy or other bytes (err %v)", err)
	}
	sized := connectors.Input{Name: "sized.csv", Open: func() (io.ReadCloser, error) { return sizedReader{bytes.NewReader(text)}, nil }}
	got, _, err = readInput(sized)
	if err != nil || !bytes.Equal(got, text) {
		t.Fatalf("sized input: other bytes (err %v)", err)
	}
	// One allocation of the size and the room ReadFrom wants (rounded up to the
	// allocator's size class), not twice the size.
	if cap(got) > len(text)+len(text)/8 {
		t.Errorf("sized input of %d bytes read into a buffer of %d", len(text), cap(got))
	}
}
