package engine

import (
	"bytes"
	"reflect"
	"testing"

	"settle/connectors"
	"settle/feed"
)

// TestParseCacheIndexRoundTrip: an index reads back as written, entries with and without
// findings alike; cut short anywhere, it is an error and never a panic.
func TestParseCacheIndexRoundTrip(t *testing.T) {
	idx := &pcIndex{Version: [32]byte{1, 2}, Feed: feed.Invoice, Set: [32]byte{3}, Inputs: []pcInput{
		{Name: "invoice/TY0001-01", Counter: "TY0001-01", Pull: true, Format: connectors.CSV, Digest: [32]byte{9},
			Batch: 0, Off: 0, Rows: 25, Read: 26, Triples: []triple{{"TY", "TY0001", "TY0001-01"}}},
		{Name: "太原_发票日报.xlsx", Format: connectors.XLSX, Digest: [32]byte{8}, Batch: 1, Off: 32768, Rows: 0, Read: 3,
			Rejects: []Reject{{Feed: "invoice", Source: "太原_发票日报.xlsx[Sheet1]", Line: 4, Reason: "MALFORMED_ROW: x", Raw: "a,b"}},
			Excs:    []Exception{{Code: CodeMalformedRow, Severity: SevError, Feed: "invoice", Detail: "x", Amount: -5, HasAmount: true}}},
		{Name: "empty", Digest: [32]byte{7}},
	}}
	var b bytes.Buffer
	if err := encodeIndex(&b, idx); err != nil {
		t.Fatal(err)
	}
	got, err := decodeIndex(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, idx) {
		t.Fatalf("read back\n%+v\nwant\n%+v", got, idx)
	}
	for n := 0; n < b.Len(); n++ {
		if _, err := decodeIndex(b.Bytes()[:n]); err == nil {
			t.Fatalf("an index cut to %d of %d bytes was read", n, b.Len())
		}
	}
}
