package dialect

import (
	"bytes"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// decode returns data as UTF-8 text: a UTF-8 BOM is stripped, and data that is not valid
// UTF-8 is decoded as GB18030 (a superset of GBK), whose BOM is stripped too. Bytes that
// are not GB18030 either become U+FFFD; decoding never fails. Valid UTF-8 is not copied:
// the result shares memory with data, which the caller must not modify afterwards.
func decode(data []byte) string {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return unsafe.String(unsafe.SliceData(data), len(data))
	}
	return strings.TrimPrefix(decodeGB18030(data), "\uFEFF")
}

// decodeGB18030 decodes GB18030 text. The x/text decoder goes byte by byte; BOSS exports
// are mostly ASCII, so ASCII runs are copied as they are and only the stretches between
// them are handed to the decoder. A stretch starts at a byte >= 0x80 and ends before the
// next byte < 0x30: no byte of a GB18030 multi-byte sequence is below 0x30 (trail bytes
// are 0x30-0x39 or 0x40-0xFE), so no sequence is ever cut.
func decodeGB18030(data []byte) string {
	dec := simplifiedchinese.GB18030.NewDecoder()
	out := make([]byte, 0, len(data)+len(data)/2)
	for len(data) > 0 {
		i := 0
		for i < len(data) && data[i] < utf8.RuneSelf {
			i++
		}
		out = append(out, data[:i]...)
		data = data[i:]
		if len(data) == 0 {
			break
		}
		j := 1
		for j < len(data) && data[j] >= 0x30 {
			j++
		}
		for seg := data[:j]; len(seg) > 0; {
			n, m, err := dec.Transform(out[len(out):cap(out)], seg, true)
			out, seg = out[:len(out)+n], seg[m:]
			switch {
			case err == transform.ErrShortDst:
				// A byte decodes to at most 3 bytes of UTF-8 (an invalid one to U+FFFD).
				out = slices.Grow(out, 3*len(seg))
			case err != nil:
				// Not expected: the decoder replaces what it cannot decode. Never lose the input.
				out = append(out, strings.ToValidUTF8(string(seg), "\uFFFD")...)
				seg = nil
			}
		}
		data = data[j:]
	}
	// out is not kept or changed after this: the string can share its memory.
	return unsafe.String(unsafe.SliceData(out), len(out))
}

// maxScratch is the largest unescaping buffer the splitter keeps between records; a
// larger one (a multi-megabyte quoted field) is dropped after use.
const maxScratch = 4 << 20

// splitter splits decoded CSV text into records. It is lenient where encoding/csv is
// strict, because a BOSS export must be read whole even when one record is damaged:
//
//   - fields are separated by ','; records end at LF or CRLF, the last one maybe at the
//     end of the text without a line end;
//   - a field whose first character is '"' is quoted: it runs to the next '"' not
//     followed by another '"' ("" stands for one quote) and may hold commas and line ends;
//   - a '"' anywhere else is an ordinary character, and text between a closing quote and
//     the next ',' or line end is appended to the field as it is;
//   - a quote left open at the end of the text does not swallow the rest of the file: the
//     record is read again as its first physical line alone with every quote literal.
//
// Fields are trimmed of surrounding white space (unicode.IsSpace: also '\r' and U+3000).
// Field and raw strings are substrings of the text where possible (no copy); only a
// field with "" escapes is built anew.
type splitter struct {
	s    string
	pos  int // offset of the next record
	line int // 1-based physical line of the next record

	// limit is how many fields of a record are kept in fields; the rest are only counted
	// and checked for blankness, so an absurdly wide line costs no memory.
	limit int

	// The current record.
	start  int      // its first physical line
	raw    string   // its text without the line end
	fields []string // its first min(n, limit) fields, trimmed
	keep   []string // where fields are kept: fields is keep[:min(n, limit)]
	n      int      // its number of fields
	last   int      // index of its last non-empty field; -1 when the record is blank

	buf []byte // scratch for unescaping quoted fields
}

func newSplitter(s string, limit int) *splitter {
	return &splitter{s: s, line: 1, limit: limit, keep: make([]string, min(limit, 64))}
}

// next reads the next record; it returns false at the end of the text.
func (p *splitter) next() bool {
	if p.pos >= len(p.s) {
		return false
	}
	rest := p.s[p.pos:]
	end := strings.IndexByte(rest, '\n')
	if end < 0 {
		end = len(rest)
	}
	if strings.IndexByte(rest[:end], '"') < 0 {
		// The common case: one physical line, no quotes.
		p.plain(rest[:end])
		p.pos += end + 1
		return true
	}
	p.quoted()
	return true
}

// plain takes line (a physical line without its '\n') as a record with every quote literal.
//
// The commas are found eight bytes at a time: fields are short (a city-day's are about
// ten bytes on average), and a strings.IndexByte call per field cost more than the scan it
// made. add's work is written out in the loop: with its call to strings.TrimSpace it is
// too big to be inlined, and a call per field cost as much again.
func (p *splitter) plain(line string) {
	line = strings.TrimSuffix(line, "\r")
	p.begin()
	p.raw = line
	from := 0    // where the next field starts
	w := 0       // the bytes before w were read a word at a time...
	var m uint64 // ...and m marks the commas among them not yet taken (commasIn)
	for {
		end := -1 // of the field at from: the next comma, or the end of the line
		for end < 0 {
			switch {
			case m != 0:
				end = w - 8 + bits.TrailingZeros64(m)>>3
				m &= m - 1
			case w+8 <= len(line):
				m = commasIn(line[w : w+8])
				w += 8
			default: // fewer than 8 bytes left: one at a time
				end = len(line)
				for k := max(w, from); k < len(line); k++ {
					if line[k] == ',' {
						end = k
						break
					}
				}
			}
		}
		f := line[from:end]
		if f != "" && !plainEdges(f) {
			f = strings.TrimSpace(f)
		}
		if f != "" {
			p.last = p.n
		}
		if p.n < len(p.keep) {
			p.keep[p.n] = f
		} else if p.n < p.limit {
			p.keep = append(p.keep, f)
		}
		p.n++
		if end == len(line) {
			break
		}
		from = end + 1
	}
	p.end()
	p.line++
}

// commasIn returns a word with the high bit of byte k set where w[k] is ',' and every other
// bit clear (w is 8 bytes). For each byte x of w XOR ",,,,,,,,": (x&0x7f)+0x7f carries
// into the high bit unless x's low seven bits are 0, and x's own high bit is or-ed in; the
// complement's high bit is set exactly when x is 0. No carry crosses a byte, so, unlike
// the shorter has-zero test, no byte after a ',' is marked falsely.
func commasIn(w string) uint64 {
	const lo7 = 0x7f7f7f7f7f7f7f7f
	x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
	x ^= 0x2c2c2c2c2c2c2c2c // ','
	return ^((x&lo7 + lo7) | x | lo7)
}

// quoted reads a record that holds a '"' on its first physical line.
func (p *splitter) quoted() {
	s, i := p.s, p.pos
	p.begin()
	newlines := 0
	var end, next int // end of the record's text and start of the next record
	for {
		var val string
		if i < len(s) && s[i] == '"' {
			var close int
			var ok bool
			val, close, ok = p.unquote(i)
			if !ok {
				// Unterminated: the first physical line alone, quotes literal.
				rest := s[p.pos:]
				e := strings.IndexByte(rest, '\n')
				if e < 0 {
					e = len(rest)
				}
				p.plain(rest[:e])
				p.pos += e + 1
				return
			}
			newlines += strings.Count(s[i:close], "\n")
			i = close + 1
			e := i + fieldEnd(s[i:])
			if tail := s[i:e]; strings.TrimSpace(tail) != "" {
				val += tail
			}
			i = e
		} else {
			e := i + fieldEnd(s[i:])
			val = s[i:e]
			i = e
		}
		p.add(val)
		if i >= len(s) {
			end, next = len(s), len(s)
			break
		}
		if s[i] == '\n' {
			end, next = i, i+1
			break
		}
		i++ // ','
	}
	p.end()
	p.raw = strings.TrimSuffix(s[p.pos:end], "\r")
	p.pos = next
	p.line += 1 + newlines
	if cap(p.buf) > maxScratch {
		p.buf = nil
	}
}

// unquote reads the quoted field whose opening quote is at s[i]. It returns the field's
// value, the offset of its closing quote, and false when the quote is never closed.
func (p *splitter) unquote(i int) (val string, close int, ok bool) {
	s := p.s
	j := i + 1
	seg := j
	escaped := false
	for {
		k := strings.IndexByte(s[j:], '"')
		if k < 0 {
			return "", 0, false
		}
		j += k
		if j+1 < len(s) && s[j+1] == '"' {
			if !escaped {
				p.buf = p.buf[:0]
				escaped = true
			}
			p.buf = append(p.buf, s[seg:j+1]...)
			j += 2
			seg = j
			continue
		}
		if !escaped {
			return s[i+1 : j], j, true
		}
		p.buf = append(p.buf, s[seg:j]...)
		return string(p.buf), j, true
	}
}

// fieldEnd returns the length of s up to the first ',' or '\n'.
func fieldEnd(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == ',' || c == '\n' {
			return i
		}
	}
	return len(s)
}

func (p *splitter) begin() {
	p.start = p.line
	p.n = 0
	p.last = -1
}

// add takes the next field of the record, trimmed (plain has its own copy of this).
func (p *splitter) add(f string) {
	if f != "" && !plainEdges(f) {
		f = strings.TrimSpace(f)
	}
	if f != "" {
		p.last = p.n
	}
	if p.n < len(p.keep) {
		p.keep[p.n] = f
	} else if p.n < p.limit {
		p.keep = append(p.keep, f)
	}
	p.n++
}

// end ends a record: fields are its first min(n, limit) fields.
func (p *splitter) end() {
	p.fields = p.keep[:min(p.n, p.limit)]
}

// plainEdges reports whether s starts and ends with a printable ASCII character (not
// space), as nearly every field does: then it needs no trimming.
func plainEdges(s string) bool {
	a, z := s[0], s[len(s)-1]
	return a > ' ' && a < utf8.RuneSelf && z > ' ' && z < utf8.RuneSelf
}

// trim is strings.TrimSpace with a fast path for a field that starts and ends with a
// printable ASCII character, which is nearly every field.
func trim(s string) string {
	if s == "" || plainEdges(s) {
		return s
	}
	return strings.TrimSpace(s)
}
