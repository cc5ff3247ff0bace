package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// The manifest's own reading of its maps of files, the inverse of marshalManifest's writing
// of them: a refresh reads the current run's manifest (1.8 MB on a city-day, ~11,000 files)
// while it fetches, and encoding/json took ~40 ms of CPU over it, in a stretch where the
// refresh also reads its parse cache and lists its kept inputs. Only the exact layout
// marshalManifest writes is read here (two-space indents, its key order); anything else — a
// manifest written by hand or by another tool — is read by encoding/json whole.

// errLayout is a manifest not in marshalManifest's layout.
var errLayout = errors.New("manifest: not in settle's own layout")

// unmarshalManifest reads data into m: the maps of files by hand when they are in
// marshalManifest's layout, the rest by encoding/json; otherwise all of it by encoding/json.
func unmarshalManifest(data []byte, m *Manifest) error {
	if err := unmarshalOwn(data, m); err == nil {
		return nil
	}
	*m = Manifest{}
	return json.Unmarshal(data, m)
}

func unmarshalOwn(data []byte, m *Manifest) error {
	rest := make([]byte, 0, 16<<10)
	at := 0
	var outputs map[string]Output
	var reports, feedFiles map[string]ReportRecord
	for _, f := range []string{"outputs", "reports", "feed_files"} {
		head := []byte("\n  \"" + f + "\": {")
		i := bytes.Index(data[at:], head)
		if i < 0 {
			if f == "outputs" {
				return errLayout
			}
			continue
		}
		start := at + i + len(head) - 1 // the map's {
		end := bytes.Index(data[start:], []byte("\n  }"))
		if end < 0 {
			return errLayout
		}
		end += start + len("\n  }")
		body := data[start:end]
		var err error
		switch f {
		case "outputs":
			outputs, err = readFileMap(body, "sha256", "size", func(a string, n int64, _ string) Output { return Output{SHA256: a, Size: n} })
		case "reports":
			reports, err = readFileMap(body, "key", "rendered_in", func(a string, _ int64, b string) ReportRecord { return ReportRecord{Key: a, RenderedIn: b} })
		case "feed_files":
			feedFiles, err = readFileMap(body, "key", "rendered_in", func(a string, _ int64, b string) ReportRecord { return ReportRecord{Key: a, RenderedIn: b} })
		}
		if err != nil {
			return err
		}
		rest = append(rest, data[at:start]...)
		rest = append(rest, "{}"...)
		at = end
	}
	rest = append(rest, data[at:]...)
	var r Manifest
	if err := json.Unmarshal(rest, &r); err != nil {
		return err
	}
	if r.Outputs == nil || len(r.Outputs) != 0 || len(r.Reports) != 0 || len(r.FeedFiles) != 0 {
		return errLayout // the maps were not where they were cut from
	}
	r.Outputs = outputs
	if len(reports) > 0 {
		r.Reports = reports
	}
	if len(feedFiles) > 0 {
		r.FeedFiles = feedFiles
	}
	*m = r
	return nil
}

// readFileMap reads one map of files as appendFileMap writes it: `{`, then per entry a line
// `    "<path>": {`, two lines `      "<first>": "<string>",` and `      "<second>": <value>`
// (a number for "size", else a string), `    }`, entries joined by `,`, and `\n  }`.
func readFileMap[V any](b []byte, first, second string, make1 func(a string, n int64, s string) V) (map[string]V, error) {
	p := &layoutReader{b: b}
	if !p.lit("{") {
		return nil, errLayout
	}
	out := make(map[string]V, bytes.Count(b, []byte("\n    \""))) // each entry's line
	if p.lit("}") {
		return out, p.end()
	}
	numeric := second == "size"
	for {
		if !p.lit("\n    ") {
			return nil, errLayout
		}
		key, ok := p.str()
		if !ok || !p.lit(": {\n      \""+first+"\": ") {
			return nil, errLayout
		}
		a, ok := p.str()
		if !ok || !p.lit(",\n      \""+second+"\": ") {
			return nil, errLayout
		}
		var n int64
		var s string
		if numeric {
			n, ok = p.int()
		} else {
			s, ok = p.str()
		}
		if !ok || !p.lit("\n    }") {
			return nil, errLayout
		}
		if _, dup := out[key]; dup {
			return nil, errLayout
		}
		out[key] = make1(a, n, s)
		if p.lit(",") {
			continue
		}
		if !p.lit("\n  }") {
			return nil, errLayout
		}
		return out, p.end()
	}
}

// layoutReader reads b from i.
type layoutReader struct {
	b []byte
	i int
}

func (p *layoutReader) lit(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

func (p *layoutReader) end() error {
	if p.i != len(p.b) {
		return errLayout
	}
	return nil
}

// str reads a JSON string: plain ASCII as it stands, one with an escape or other bytes
// through encoding/json (as appendJSONString writes them).
func (p *layoutReader) str() (string, bool) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", false
	}
	plain := true
	for j := p.i + 1; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			tok := p.b[p.i : j+1]
			p.i = j + 1
			if plain {
				return string(tok[1 : len(tok)-1]), true
			}
			var s string
			if json.Unmarshal(tok, &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			plain = false
			j++ // the escaped byte: a quote does not end the string
		case c < 0x20:
			return "", false
		case c >= 0x80:
			plain = false
		}
	}
	return "", false
}

// int reads a non-negative decimal integer as encoding/json writes one.
func (p *layoutReader) int() (int64, bool) {
	j := p.i
	for j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9' {
		j++
	}
	if j == p.i || (j-p.i > 1 && p.b[p.i] == '0') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(p.b[p.i:j]), 10, 64)
	if err != nil {
		return 0, false
	}
	p.i = j
	return n, true
}
