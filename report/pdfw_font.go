package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"github.com/klauspost/compress/zlib"
	"strconv"
	"strings"
	"sync"
)

// pdfFont is a face cut to a set of characters (a runFont), ready for the PDF writer: rune →
// glyph id, the glyphs' advances, and the font objects a document embeds. A period report
// embeds the whole cut (made for its characters); a daily report embeds only the glyphs it
// drew, keeping their ids (cutTo), so its text is written as it is drawn.
type pdfFont struct {
	*runFont
	gid     []uint16 // BMP rune → glyph id in the cut (0: none)
	adv     []uint16 // glyph id → advance, in 1/1000 em
	runeOf  []rune   // glyph id → a rune drawn with it (0 for .notdef and components)
	ascent  int
	descent int
	bbox    [4]int

	whole     func() *fontObjs         // the whole cut's objects, made on first use
	sfnt      func() (*ttfFont, error) // the cut, parsed on first use: what cutTo takes glyphs from
	mu        sync.Mutex
	cuts      map[string]*fontObjs // glyph set → its objects (cutTo)
	cutsBytes int
}

// fontObjs are what a document embeds of a font: the font program, its widths, the map from
// glyph ids back to text, and its subset name.
type fontObjs struct {
	stream []byte // the font program, zlib-compressed
	rawLen int
	widths string // the CIDFont's /W array
	toUni  []byte // the ToUnicode CMap, zlib-compressed
	name   string // /XXXXXX+MicroHei
}

// maxCutBytes bounds what a pdfFont keeps of the per-document cuts it made (a run's
// documents mostly share a few glyph sets; beyond this, a new set is cut and not kept).
const maxCutBytes = 64 << 20

// newPDFFont makes rf (base cut to runes: sorted, distinct, all in base) ready for the writer.
func newPDFFont(base *ttfFont, runes []rune, rf *runFont) (*pdfFont, error) {
	if len(rf.data) == 0 {
		return nil, fmt.Errorf("font cut: %w", errBadFont)
	}
	be := binary.BigEndian
	f := &pdfFont{runFont: rf, gid: make([]uint16, 0x10000), cuts: map[string]*fontObjs{}}
	// The cut's glyph ids, as ttfFont.subset numbers them: glyph 0, then the runes' glyphs in
	// rune order (components come after and are never drawn directly).
	newID := map[int]int{0: 0}
	order := []int{0}
	for _, r := range runes {
		g := int(base.gid[r])
		id, ok := newID[g]
		if !ok {
			id = len(order)
			newID[g] = id
			order = append(order, g)
		}
		f.gid[r] = uint16(id)
	}
	f.sfnt = sync.OnceValues(func() (*ttfFont, error) { return parseTTF(rf.data) })
	f.runeOf = make([]rune, len(order))
	for i := len(runes) - 1; i >= 0; i-- { // the lowest rune of a glyph names it
		f.runeOf[f.gid[runes[i]]] = runes[i]
	}
	upem := 1000
	if h := base.tables["head"]; len(h) >= 54 {
		upem = int(be.Uint16(h[18:]))
		for i := range 4 {
			f.bbox[i] = int(int16(be.Uint16(h[36+2*i:]))) * 1000 / upem
		}
	}
	if h := base.tables["hhea"]; len(h) >= 8 {
		f.ascent = int(int16(be.Uint16(h[4:]))) * 1000 / upem
		f.descent = int(int16(be.Uint16(h[6:]))) * 1000 / upem
	}
	hm := base.tables["hmtx"]
	f.adv = make([]uint16, len(order))
	for id, old := range order {
		at := 4 * min(old, base.numHMetrics-1)
		if at+2 <= len(hm) {
			f.adv[id] = uint16(int(be.Uint16(hm[at:])) * 1000 / upem)
		}
	}
	f.whole = sync.OnceValue(func() *fontObjs {
		all := make([]bool, len(order))
		for i := range all {
			all[i] = true
		}
		return f.objects(rf.data, all)
	})
	return f, nil
}

// objects makes the embedded objects of data, a program of this font whose drawn glyphs are
// those set in used.
func (f *pdfFont) objects(data []byte, used []bool) *fontObjs {
	o := &fontObjs{rawLen: len(data)}
	var w strings.Builder
	w.WriteByte('[')
	for g := 1; g < len(used); g++ { // runs of consecutive glyphs: "first [w w …]"
		if !used[g] || g >= len(f.adv) {
			continue
		}
		if g == 1 || !used[g-1] {
			if w.Len() > 1 {
				w.WriteString("] ")
			}
			w.WriteString(strconv.Itoa(g))
			w.WriteString(" [")
		} else {
			w.WriteByte(' ')
		}
		w.WriteString(strconv.Itoa(int(f.adv[g])))
	}
	if w.Len() > 1 {
		w.WriteByte(']')
	}
	w.WriteByte(']')
	o.widths = w.String()
	// ToUnicode: each glyph id back to its character (pdftotext reads the text through it).
	var tu bytes.Buffer
	tu.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	var pairs [][2]int
	for g := 1; g < len(used) && g < len(f.runeOf); g++ {
		if used[g] && f.runeOf[g] != 0 {
			pairs = append(pairs, [2]int{g, int(f.runeOf[g])})
		}
	}
	for len(pairs) > 0 {
		n := min(len(pairs), 100)
		fmt.Fprintf(&tu, "%d beginbfchar\n", n)
		for _, p := range pairs[:n] {
			tu.WriteByte('<')
			tu.WriteString(hex4(uint16(p[0])))
			tu.WriteString("> <")
			tu.WriteString(hex4(uint16(p[1])))
			tu.WriteString(">\n")
		}
		tu.WriteString("endbfchar\n")
		pairs = pairs[n:]
	}
	tu.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	o.stream, o.toUni = deflate(data), deflate(tu.Bytes())
	sum := sha256.Sum256(data)
	tag := make([]byte, 0, 7+len(subsetSuffix))
	tag = append(tag, '/')
	for _, b := range sum[:6] {
		tag = append(tag, 'A'+b%26)
	}
	o.name = string(append(tag, subsetSuffix...))
	return o
}

// zlibWriters are reused: a zlib writer allocates ~1 MB of state.
var zlibWriters = sync.Pool{New: func() any {
	w, _ := zlib.NewWriterLevel(nil, zlib.BestSpeed)
	return w
}}

// deflate returns b zlib-compressed.
func deflate(b []byte) []byte {
	var out bytes.Buffer
	out.Grow(len(b)/2 + 64)
	zw := zlibWriters.Get().(*zlib.Writer)
	zw.Reset(&out)
	zw.Write(b)
	zw.Close()
	zlibWriters.Put(zw)
	return out.Bytes()
}

// cutTo returns the objects of the cut keeping only the glyphs of used (and .notdef and the
// components they are built from), every glyph keeping its id: the others are left empty.
// Documents drawing the same glyphs share one cut. A cut that cannot be parsed (it is made
// from the embedded face, so never) is embedded whole.
func (f *pdfFont) cutTo(used []bool) *fontObjs {
	bits := make([]byte, (len(used)+7)/8)
	for g, u := range used {
		if u {
			bits[g/8] |= 1 << (g % 8)
		}
	}
	key := string(bits)
	f.mu.Lock()
	o := f.cuts[key]
	f.mu.Unlock()
	if o != nil {
		return o
	}
	s, err := f.sfnt()
	if err != nil {
		return f.whole()
	}
	keep := make([]bool, s.numGlyphs)
	var todo []int
	for g := range min(len(used), len(keep)) {
		if used[g] || g == 0 {
			keep[g] = true
			todo = append(todo, g)
		}
	}
	for len(todo) > 0 { // and the components they are built from, transitively
		glyph := s.glyph(todo[len(todo)-1])
		todo = todo[:len(todo)-1]
		components(glyph, func(at int) {
			if c := int(binary.BigEndian.Uint16(glyph[at:])); c < len(keep) && !keep[c] {
				keep[c] = true
				todo = append(todo, c)
			}
		})
	}
	be := binary.BigEndian
	var glyf []byte
	loca := make([]byte, 0, 4*(len(keep)+1))
	for g, k := range keep {
		loca = be.AppendUint32(loca, uint32(len(glyf)))
		if k {
			glyf = append(glyf, s.glyph(g)...)
			for len(glyf)%4 != 0 {
				glyf = append(glyf, 0)
			}
		}
	}
	loca = be.AppendUint32(loca, uint32(len(glyf)))
	head := append([]byte(nil), s.tables["head"]...)
	be.PutUint32(head[8:], 0)  // checkSumAdjustment, set by assembleSFNT
	be.PutUint16(head[50:], 1) // long loca
	tables := make(map[string][]byte, len(s.tables))
	for t, b := range s.tables {
		tables[t] = b
	}
	tables["glyf"], tables["loca"], tables["head"] = glyf, loca, head
	o = f.objects(assembleSFNT(tables), used)
	f.mu.Lock()
	if size := len(key) + len(o.stream) + len(o.toUni) + len(o.widths); f.cuts[key] == nil && f.cutsBytes+size <= maxCutBytes {
		f.cuts[key] = o
		f.cutsBytes += size
	}
	f.mu.Unlock()
	return o
}
