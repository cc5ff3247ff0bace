//go:build ignore

// extract_ttc writes one face of a TrueType Collection as a standalone .ttf.
// It was used once to produce wqy-microhei.ttf:
//
//	go run assets/fonts/extract_ttc.go /usr/share/fonts/truetype/wqy/wqy-microhei.ttc 0 assets/fonts/wqy-microhei.ttf
//
// The face's tables are copied unchanged (4-byte aligned, sorted by tag) behind a fresh
// table directory; checksums are recomputed and head.checkSumAdjustment is set.
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"strconv"
)

type table struct {
	tag  string
	data []byte
}

func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: extract_ttc IN.ttc INDEX OUT.ttf")
		os.Exit(2)
	}
	in, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	idx, _ := strconv.Atoi(os.Args[2])
	be := binary.BigEndian
	if string(in[:4]) != "ttcf" {
		fmt.Fprintln(os.Stderr, "not a TTC")
		os.Exit(1)
	}
	n := int(be.Uint32(in[8:]))
	if idx < 0 || idx >= n {
		fmt.Fprintf(os.Stderr, "face %d of %d\n", idx, n)
		os.Exit(1)
	}
	off := int(be.Uint32(in[12+4*idx:]))
	sfntVersion := be.Uint32(in[off:])
	numTables := int(be.Uint16(in[off+4:]))
	var tables []table
	for i := 0; i < numTables; i++ {
		rec := in[off+12+16*i:]
		tag := string(rec[:4])
		o, l := be.Uint32(rec[8:]), be.Uint32(rec[12:])
		tables = append(tables, table{tag, append([]byte(nil), in[o:o+l]...)})
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i].tag < tables[j].tag })
	for _, t := range tables {
		if t.tag == "head" {
			be.PutUint32(t.data[8:], 0) // checkSumAdjustment, set below
		}
	}
	es, sr := 0, 1
	for sr*2 <= numTables {
		sr *= 2
		es++
	}
	hdr := make([]byte, 12+16*numTables)
	be.PutUint32(hdr[0:], sfntVersion)
	be.PutUint16(hdr[4:], uint16(numTables))
	be.PutUint16(hdr[6:], uint16(sr*16))
	be.PutUint16(hdr[8:], uint16(es))
	be.PutUint16(hdr[10:], uint16(numTables*16-sr*16))
	pos := len(hdr)
	var body []byte
	headAt := -1
	for i, t := range tables {
		rec := hdr[12+16*i:]
		copy(rec, t.tag)
		be.PutUint32(rec[4:], checksum(t.data))
		be.PutUint32(rec[8:], uint32(pos))
		be.PutUint32(rec[12:], uint32(len(t.data)))
		if t.tag == "head" {
			headAt = pos
		}
		body = append(body, t.data...)
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		pos = len(hdr) + len(body)
	}
	out := append(hdr, body...)
	if headAt >= 0 {
		be.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	}
	if err := os.WriteFile(os.Args[3], out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("face %d of %d: %d tables, %d bytes\n", idx, n, numTables, len(out))
}
