package report

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"

	"settle/assets/fonts"
)

// The PDF reports are drawn with one TrueType CJK face (WenQuanYi Micro Hei, 4.6 MB,
// about 49,500 glyphs). It is parsed once per process (ttfFont), and once per run it is cut
// down to the glyphs the run can draw (subset); the PDF writer (pdfw.go) then embeds in each
// document only the glyphs it drew, from that cut.

// ttfFont is a parsed TrueType font: its tables and its Unicode BMP character map.
type ttfFont struct {
	tables      map[string][]byte
	gid         []uint16 // BMP rune → glyph id; 0 for no glyph
	numGlyphs   int
	numHMetrics int
	loca        []uint32 // numGlyphs+1 offsets into glyf
}

// wqyFont returns the embedded face, parsed on first use.
var wqyFont = sync.OnceValues(func() (*ttfFont, error) {
	f, err := parseTTF(fonts.WQYMicroHei)
	if err != nil {
		return nil, fmt.Errorf("embedded font wqy-microhei.ttf: %w", err)
	}
	return f, nil
})

var errBadFont = errors.New("malformed TrueType font")

func parseTTF(b []byte) (*ttfFont, error) {
	be := binary.BigEndian
	if len(b) < 12 {
		return nil, errBadFont
	}
	if v := be.Uint32(b); v != 0x00010000 && v != 0x74727565 {
		return nil, fmt.Errorf("%w: not a TrueType (glyf) font", errBadFont)
	}
	n := int(be.Uint16(b[4:]))
	if len(b) < 12+16*n {
		return nil, errBadFont
	}
	f := &ttfFont{tables: make(map[string][]byte, n)}
	for i := range n {
		rec := b[12+16*i:]
		off, l := uint64(be.Uint32(rec[8:])), uint64(be.Uint32(rec[12:]))
		if off+l > uint64(len(b)) {
			return nil, fmt.Errorf("%w: table %q out of bounds", errBadFont, rec[:4])
		}
		f.tables[string(rec[:4])] = b[off : off+l]
	}
	for _, t := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap", "name", "OS/2", "post"} {
		if f.tables[t] == nil {
			return nil, fmt.Errorf("%w: no %q table", errBadFont, t)
		}
	}
	head, hhea, maxp := f.tables["head"], f.tables["hhea"], f.tables["maxp"]
	if len(head) < 54 || len(hhea) < 36 || len(maxp) < 6 || len(f.tables["post"]) < 32 {
		return nil, errBadFont
	}
	f.numGlyphs = int(be.Uint16(maxp[4:]))
	f.numHMetrics = int(be.Uint16(hhea[34:]))
	if f.numHMetrics == 0 || f.numHMetrics > f.numGlyphs || len(f.tables["hmtx"]) < 4*f.numHMetrics+2*(f.numGlyphs-f.numHMetrics) {
		return nil, fmt.Errorf("%w: hmtx", errBadFont)
	}
	loca := f.tables["loca"]
	f.loca = make([]uint32, f.numGlyphs+1)
	long := be.Uint16(head[50:]) == 1
	for i := range f.loca {
		if long {
			if len(loca) < 4*(i+1) {
				return nil, fmt.Errorf("%w: loca", errBadFont)
			}
			f.loca[i] = be.Uint32(loca[4*i:])
		} else {
			if len(loca) < 2*(i+1) {
				return nil, fmt.Errorf("%w: loca", errBadFont)
			}
			f.loca[i] = 2 * uint32(be.Uint16(loca[2*i:]))
		}
		if f.loca[i] > uint32(len(f.tables["glyf"])) || i > 0 && f.loca[i] < f.loca[i-1] {
			return nil, fmt.Errorf("%w: loca", errBadFont)
		}
	}
	gid, err := parseCmap4(f.tables["cmap"], f.numGlyphs)
	if err != nil {
		return nil, err
	}
	f.gid = gid
	return f, nil
}

// parseCmap4 reads the Unicode BMP subtable (format 4) of a cmap table.
func parseCmap4(cmap []byte, numGlyphs int) ([]uint16, error) {
	be := binary.BigEndian
	if len(cmap) < 4 {
		return nil, fmt.Errorf("%w: cmap", errBadFont)
	}
	var sub []byte
	for i := range int(be.Uint16(cmap[2:])) {
		rec := cmap[4+8*i:]
		if len(rec) < 8 {
			break
		}
		pid, eid, off := be.Uint16(rec), be.Uint16(rec[2:]), be.Uint32(rec[4:])
		if (pid == 3 && eid == 1 || pid == 0) && uint64(off)+4 <= uint64(len(cmap)) && be.Uint16(cmap[off:]) == 4 {
			sub = cmap[off:]
			break
		}
	}
	if len(sub) < 14 {
		return nil, fmt.Errorf("%w: no Unicode BMP cmap", errBadFont)
	}
	if l := int(be.Uint16(sub[2:])); l <= len(sub) {
		sub = sub[:l]
	}
	seg := int(be.Uint16(sub[6:])) / 2
	if len(sub) < 16+8*seg {
		return nil, fmt.Errorf("%w: cmap format 4", errBadFont)
	}
	ends, starts := sub[14:], sub[16+2*seg:]
	deltas, ranges := sub[16+4*seg:], sub[16+6*seg:]
	gid := make([]uint16, 0x10000)
	for s := range seg {
		end, start := int(be.Uint16(ends[2*s:])), int(be.Uint16(starts[2*s:]))
		delta, ro := be.Uint16(deltas[2*s:]), int(be.Uint16(ranges[2*s:]))
		for c := start; c <= end && c < 0xFFFF; c++ {
			var g uint16
			if ro == 0 {
				g = uint16(c) + delta
			} else {
				at := 16 + 6*seg + 2*s + ro + 2*(c-start)
				if at+2 > len(sub) {
					continue
				}
				if g = be.Uint16(sub[at:]); g != 0 {
					g += delta
				}
			}
			if int(g) < numGlyphs {
				gid[c] = g
			}
		}
	}
	return gid, nil
}

// has reports whether the font draws r.
func (f *ttfFont) has(r rune) bool {
	return r >= 0 && r < 0xFFFF && f.gid[r] != 0
}

// glyph returns the glyf data of glyph g.
func (f *ttfFont) glyph(g int) []byte {
	return f.tables["glyf"][f.loca[g]:f.loca[g+1]]
}

// Composite glyph flags (TrueType glyf).
const (
	compArgsAreWords = 0x0001
	compHaveScale    = 0x0008
	compMoreComps    = 0x0020
	compHaveXYScale  = 0x0040
	compHave2x2      = 0x0080
)

// components calls fn with the offset of each component's glyph index in a composite glyph.
func components(g []byte, fn func(at int)) {
	if len(g) < 10 || int16(binary.BigEndian.Uint16(g)) >= 0 {
		return
	}
	for p := 10; p+4 <= len(g); {
		flags := binary.BigEndian.Uint16(g[p:])
		fn(p + 2)
		p += 4
		if flags&compArgsAreWords != 0 {
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&compHaveScale != 0:
			p += 2
		case flags&compHaveXYScale != 0:
			p += 4
		case flags&compHave2x2 != 0:
			p += 8
		}
		if flags&compMoreComps == 0 {
			return
		}
	}
}

// subset returns a TrueType font with the glyphs of runes (and of the components they are
// built from) and .notdef, renumbered, with a format 4 cmap of exactly those runes. Runes the
// font lacks are left out. The result depends only on the set of runes.
func (f *ttfFont) subset(runes []rune) []byte {
	be := binary.BigEndian
	rs := make([]rune, 0, len(runes))
	for _, r := range runes {
		if f.has(r) {
			rs = append(rs, r)
		}
	}
	slices.Sort(rs)
	rs = slices.Compact(rs)

	newID := map[int]int{0: 0}
	order := []int{0}
	add := func(g int) int {
		if id, ok := newID[g]; ok {
			return id
		}
		newID[g] = len(order)
		order = append(order, g)
		return newID[g]
	}
	runeGID := make([]int, len(rs))
	for i, r := range rs {
		runeGID[i] = add(int(f.gid[r]))
	}
	for i := 0; i < len(order); i++ { // components, transitively
		components(f.glyph(order[i]), func(at int) {
			if c := int(be.Uint16(f.glyph(order[i])[at:])); c < f.numGlyphs {
				add(c)
			}
		})
	}

	var glyf, loca, hmtx []byte
	for _, old := range order {
		loca = be.AppendUint32(loca, uint32(len(glyf)))
		g := append([]byte(nil), f.glyph(old)...)
		components(g, func(at int) {
			c := int(be.Uint16(g[at:]))
			if c >= f.numGlyphs {
				c = 0
			}
			be.PutUint16(g[at:], uint16(newID[c]))
		})
		glyf = append(glyf, g...)
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
		hm := f.tables["hmtx"]
		if old < f.numHMetrics {
			hmtx = append(hmtx, hm[4*old:4*old+4]...)
		} else {
			hmtx = append(hmtx, hm[4*(f.numHMetrics-1):4*(f.numHMetrics-1)+2]...)
			at := 4*f.numHMetrics + 2*(old-f.numHMetrics)
			hmtx = append(hmtx, hm[at:at+2]...)
		}
	}
	loca = be.AppendUint32(loca, uint32(len(glyf)))

	head := append([]byte(nil), f.tables["head"]...)
	be.PutUint32(head[8:], 0)  // checkSumAdjustment, set below
	be.PutUint16(head[50:], 1) // long loca
	hhea := append([]byte(nil), f.tables["hhea"]...)
	be.PutUint16(hhea[34:], uint16(len(order)))
	maxp := append([]byte(nil), f.tables["maxp"]...)
	be.PutUint16(maxp[4:], uint16(len(order)))
	post := append([]byte(nil), f.tables["post"][:32]...)
	be.PutUint32(post, 0x00030000) // no glyph names

	out := map[string][]byte{
		"cmap": cmap4(rs, runeGID),
		"glyf": glyf, "head": head, "hhea": hhea, "hmtx": hmtx, "loca": loca,
		"maxp": maxp, "name": f.tables["name"], "OS/2": f.tables["OS/2"], "post": post,
	}
	for _, t := range []string{"cvt ", "fpgm", "prep", "gasp"} {
		if f.tables[t] != nil {
			out[t] = f.tables[t]
		}
	}
	return assembleSFNT(out)
}

// cmap4 builds a cmap table with one (3,1) format 4 subtable mapping rs[i] to gids[i]
// (rs sorted, distinct, below U+FFFF), using only idDelta segments.
func cmap4(rs []rune, gids []int) []byte {
	type segment struct{ start, end, delta int }
	var segs []segment
	for i, r := range rs {
		if n := len(segs); n > 0 && int(r) == segs[n-1].end+1 && gids[i]-int(r) == segs[n-1].delta {
			segs[n-1].end++
			continue
		}
		segs = append(segs, segment{int(r), int(r), gids[i] - int(r)})
	}
	segs = append(segs, segment{0xFFFF, 0xFFFF, 1})
	n := len(segs)
	sr, es := 1, 0
	for sr*2 <= n {
		sr *= 2
		es++
	}
	be := binary.BigEndian
	sub := make([]byte, 0, 16+8*n)
	sub = be.AppendUint16(sub, 4)
	sub = be.AppendUint16(sub, uint16(16+8*n))
	sub = be.AppendUint16(sub, 0)
	sub = be.AppendUint16(sub, uint16(2*n))
	sub = be.AppendUint16(sub, uint16(2*sr))
	sub = be.AppendUint16(sub, uint16(es))
	sub = be.AppendUint16(sub, uint16(2*n-2*sr))
	for _, s := range segs {
		sub = be.AppendUint16(sub, uint16(s.end))
	}
	sub = be.AppendUint16(sub, 0)
	for _, s := range segs {
		sub = be.AppendUint16(sub, uint16(s.start))
	}
	for _, s := range segs {
		sub = be.AppendUint16(sub, uint16(s.delta))
	}
	for range segs {
		sub = be.AppendUint16(sub, 0)
	}
	cmap := []byte{0, 0, 0, 1, 0, 3, 0, 1, 0, 0, 0, 12}
	return append(cmap, sub...)
}

func sfntChecksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}

// assembleSFNT lays tables out behind a table directory, sorted by tag.
func assembleSFNT(tables map[string][]byte) []byte {
	be := binary.BigEndian
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	n := len(tags)
	sr, es := 1, 0
	for sr*2 <= n {
		sr *= 2
		es++
	}
	out := make([]byte, 12+16*n)
	be.PutUint32(out, 0x00010000)
	be.PutUint16(out[4:], uint16(n))
	be.PutUint16(out[6:], uint16(16*sr))
	be.PutUint16(out[8:], uint16(es))
	be.PutUint16(out[10:], uint16(16*n-16*sr))
	headAt := 0
	for i, t := range tags {
		data := tables[t]
		rec := out[12+16*i:]
		copy(rec, t)
		be.PutUint32(rec[4:], sfntChecksum(data))
		be.PutUint32(rec[8:], uint32(len(out)))
		be.PutUint32(rec[12:], uint32(len(data)))
		if t == "head" {
			headAt = len(out)
		}
		out = append(out, data...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	be.PutUint32(out[headAt+8:], 0xB1B0AFBA-sfntChecksum(out))
	return out
}
