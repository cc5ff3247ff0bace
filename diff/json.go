package diff

import (
	"encoding/json"
	"io"

	"settle/engine"
	"settle/money"
)

// WriteJSON writes the diff as one indented JSON document. Its structure is stable: every
// key below is always present, lists are [] when empty, keys come in this order:
//
//	{
//	  "a": RUN, "b": RUN,
//	  "equal": bool,
//	  "cause": {
//	    "kind": "inputs" | "version" | "both" | "neither",
//	    "inputs_changed": bool, "version_changed": bool,
//	    "basis": "checksums" | "counts",
//	    "tool_version": {"a": "0.1.0", "b": "0.1.0"},
//	    "input_digest": {"a": "...", "b": "..."},
//	    "feeds": [{"feed": "deposit", "changed": ["sha256", "rows_read", ...],
//	               "a": FEED, "b": FEED}]
//	  },
//	  "totals": {
//	    "counters": n,
//	    "settlement": {"changed": n, "added": n, "removed": n},
//	    "variance": {"changed": n, "added": n, "removed": n},
//	    "exceptions": {"added": n, "resolved": n, "changed": n},
//	    "net_delta": DELTA, "variance_delta": DELTA
//	  },
//	  "counters": [{
//	    "city": "...", "outlet_id": "...", "counter_id": "...",
//	    "settlement": [{"change": "changed" | "added" | "removed", "category": "...", "pay_method": "...",
//	                    "fields": ["gross", "net"],
//	                    "txn_count": COUNT, "gross": MONEY, "reversed": MONEY, "net": MONEY}],
//	    "variance": [{"change": ..., "pay_method": "...", "fields": [...],
//	                  "expected": MONEY, "deposited": MONEY, "variance": MONEY}],
//	    "exceptions": {
//	      "added": [EXCEPTION], "resolved": [EXCEPTION],
//	      "changed": [{"code", "counter_id", "feed", "txn_id", "key": "...",
//	                   "fields": ["severity" | "amount" | "detail" | "city" | "outlet_id"],
//	                   "old": EXCEPTION, "new": EXCEPTION}]
//	    }
//	  }]
//	}
//
// RUN is {"run": "DATE@RUN_ID", "dir", "biz_date", "run_id", "tool_version", "source",
// "status", "input_digest"}. FEED is the feed's manifest figures {"inputs", "files",
// "pulls", "bytes", "rows_read", "valid", "rejected", "sha256", "rows_sha256"}. A figure of a
// line is COUNT {"old", "new", "delta"} (integers) or MONEY {"old", "new", "delta" as yuan
// strings like "12.50" and "-3.00", "old_fen", "new_fen", "delta_fen" as integers}; "old" and
// "old_fen" are null for an added line, "new" and "new_fen" for a removed one, and delta is
// new − old with the missing side counting as zero. "fields" lists the figures that differ.
// DELTA is {"delta": yuan string, "delta_fen": integer}: the change of all lines' net or
// variance. EXCEPTION is the exceptions.csv row plus its key:
// {"code", "severity", "city", "outlet_id", "counter_id", "feed", "txn_id", "key",
// "amount" (yuan string or null), "amount_fen" (integer or null), "detail", "source"}.
//
// Counters appear only when something of theirs changed, sorted by city, outlet, counter.
func WriteJSON(w io.Writer, d *Diff) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(toJSON(d))
}

type jsonDiff struct {
	A        jsonRun       `json:"a"`
	B        jsonRun       `json:"b"`
	Equal    bool          `json:"equal"`
	Cause    jsonCause     `json:"cause"`
	Totals   jsonTotals    `json:"totals"`
	Counters []jsonCounter `json:"counters"`
}

type jsonRun struct {
	Run         string `json:"run"`
	Dir         string `json:"dir"`
	BizDate     string `json:"biz_date"`
	RunID       string `json:"run_id"`
	ToolVersion string `json:"tool_version"`
	Source      string `json:"source"`
	Status      string `json:"status"`
	InputDigest string `json:"input_digest"`
}

type jsonPair struct {
	A string `json:"a"`
	B string `json:"b"`
}

type jsonCause struct {
	Kind           string     `json:"kind"`
	InputsChanged  bool       `json:"inputs_changed"`
	VersionChanged bool       `json:"version_changed"`
	Basis          string     `json:"basis"`
	ToolVersion    jsonPair   `json:"tool_version"`
	InputDigest    jsonPair   `json:"input_digest"`
	Feeds          []jsonFeed `json:"feeds"`
	// DetailLangs is set when the runs' details are in different languages and so were
	// not compared: [a, b], "" where a manifest does not record it.
	DetailLangs []string `json:"detail_langs,omitempty"`
}

type jsonFeed struct {
	Feed    string          `json:"feed"`
	Changed []string        `json:"changed"`
	A       jsonFeedFigures `json:"a"`
	B       jsonFeedFigures `json:"b"`
}

type jsonFeedFigures struct {
	Inputs     int    `json:"inputs"`
	Files      int    `json:"files"`
	Pulls      int    `json:"pulls"`
	Bytes      int64  `json:"bytes"`
	RowsRead   int    `json:"rows_read"`
	Valid      int    `json:"valid"`
	Rejected   int    `json:"rejected"`
	SHA256     string `json:"sha256"`
	RowsSHA256 string `json:"rows_sha256"`
}

type jsonTotals struct {
	Counters      int            `json:"counters"`
	Settlement    jsonLineTotals `json:"settlement"`
	Variance      jsonLineTotals `json:"variance"`
	Exceptions    jsonExcTotals  `json:"exceptions"`
	NetDelta      jsonDelta      `json:"net_delta"`
	VarianceDelta jsonDelta      `json:"variance_delta"`
}

type jsonLineTotals struct {
	Changed int `json:"changed"`
	Added   int `json:"added"`
	Removed int `json:"removed"`
}

type jsonExcTotals struct {
	Added    int `json:"added"`
	Resolved int `json:"resolved"`
	Changed  int `json:"changed"`
}

type jsonDelta struct {
	Delta    string `json:"delta"`
	DeltaFen int64  `json:"delta_fen"`
}

type jsonCounter struct {
	City       string               `json:"city"`
	Outlet     string               `json:"outlet_id"`
	Counter    string               `json:"counter_id"`
	Settlement []jsonSettlement     `json:"settlement"`
	Variance   []jsonVariance       `json:"variance"`
	Exceptions jsonCounterExcChange `json:"exceptions"`
}

type jsonSettlement struct {
	Change    Change    `json:"change"`
	Category  string    `json:"category"`
	PayMethod string    `json:"pay_method"`
	Fields    []string  `json:"fields"`
	TxnCount  jsonCount `json:"txn_count"`
	Gross     jsonMoney `json:"gross"`
	Reversed  jsonMoney `json:"reversed"`
	Net       jsonMoney `json:"net"`
}

type jsonVariance struct {
	Change    Change    `json:"change"`
	PayMethod string    `json:"pay_method"`
	Fields    []string  `json:"fields"`
	Expected  jsonMoney `json:"expected"`
	Deposited jsonMoney `json:"deposited"`
	Variance  jsonMoney `json:"variance"`
}

type jsonCount struct {
	Old   *int64 `json:"old"`
	New   *int64 `json:"new"`
	Delta int64  `json:"delta"`
}

type jsonMoney struct {
	Old      *string `json:"old"`
	New      *string `json:"new"`
	Delta    string  `json:"delta"`
	OldFen   *int64  `json:"old_fen"`
	NewFen   *int64  `json:"new_fen"`
	DeltaFen int64   `json:"delta_fen"`
}

type jsonCounterExcChange struct {
	Added    []jsonException       `json:"added"`
	Resolved []jsonException       `json:"resolved"`
	Changed  []jsonExceptionChange `json:"changed"`
}

type jsonException struct {
	Code      string  `json:"code"`
	Severity  string  `json:"severity"`
	City      string  `json:"city"`
	Outlet    string  `json:"outlet_id"`
	Counter   string  `json:"counter_id"`
	Feed      string  `json:"feed"`
	TxnID     string  `json:"txn_id"`
	Key       string  `json:"key"`
	Amount    *string `json:"amount"`
	AmountFen *int64  `json:"amount_fen"`
	Detail    string  `json:"detail"`
	Source    string  `json:"source"`
}

type jsonExceptionChange struct {
	Code    string        `json:"code"`
	Counter string        `json:"counter_id"`
	Feed    string        `json:"feed"`
	TxnID   string        `json:"txn_id"`
	Key     string        `json:"key"`
	Fields  []string      `json:"fields"`
	Old     jsonException `json:"old"`
	New     jsonException `json:"new"`
}

func toJSON(d *Diff) jsonDiff {
	run := func(r RunInfo) jsonRun {
		return jsonRun{Run: r.Name(), Dir: r.Dir, BizDate: r.BizDate, RunID: r.RunID, ToolVersion: r.ToolVersion,
			Source: r.Source, Status: r.Status, InputDigest: r.InputDigest}
	}
	c := d.Cause
	out := jsonDiff{
		A: run(d.A), B: run(d.B), Equal: d.Equal(),
		Cause: jsonCause{
			Kind: c.Kind(), InputsChanged: c.Inputs, VersionChanged: c.Version, Basis: c.Basis,
			ToolVersion: jsonPair{d.A.ToolVersion, d.B.ToolVersion},
			InputDigest: jsonPair{d.A.InputDigest, d.B.InputDigest},
			Feeds:       make([]jsonFeed, 0, len(c.Feeds)),
		},
		Totals: jsonTotals{
			Counters:      d.Totals.Counters,
			Settlement:    jsonLineTotals(d.Totals.Settlement),
			Variance:      jsonLineTotals(d.Totals.Variance),
			Exceptions:    jsonExcTotals(d.Totals.Exceptions),
			NetDelta:      jsonDelta{money.Format(d.Totals.NetDelta), d.Totals.NetDelta},
			VarianceDelta: jsonDelta{money.Format(d.Totals.VarianceDelta), d.Totals.VarianceDelta},
		},
		Counters: make([]jsonCounter, 0, len(d.Counters)),
	}
	if !c.DetailsCompared() {
		out.Cause.DetailLangs = c.DetailLangs[:]
	}
	for _, f := range c.Feeds {
		out.Cause.Feeds = append(out.Cause.Feeds, jsonFeed{Feed: f.Feed, Changed: f.Fields,
			A: jsonFeedFigures(f.A), B: jsonFeedFigures(f.B)})
	}
	for _, ct := range d.Counters {
		jc := jsonCounter{
			City: ct.City, Outlet: ct.Outlet, Counter: ct.Counter,
			Settlement: make([]jsonSettlement, 0, len(ct.Settlement)),
			Variance:   make([]jsonVariance, 0, len(ct.Variance)),
			Exceptions: jsonCounterExcChange{
				Added:    make([]jsonException, 0, len(ct.Added)),
				Resolved: make([]jsonException, 0, len(ct.Resolved)),
				Changed:  make([]jsonExceptionChange, 0, len(ct.Changed)),
			},
		}
		for _, s := range ct.Settlement {
			f := s.Figures()
			jc.Settlement = append(jc.Settlement, jsonSettlement{
				Change: s.Change, Category: s.Category, PayMethod: s.PayMethod, Fields: figureNames(f),
				TxnCount: count(s.Change, f[0]), Gross: moneyFigure(s.Change, f[1]),
				Reversed: moneyFigure(s.Change, f[2]), Net: moneyFigure(s.Change, f[3]),
			})
		}
		for _, v := range ct.Variance {
			f := v.Figures()
			jc.Variance = append(jc.Variance, jsonVariance{
				Change: v.Change, PayMethod: v.PayMethod, Fields: figureNames(f),
				Expected: moneyFigure(v.Change, f[0]), Deposited: moneyFigure(v.Change, f[1]),
				Variance: moneyFigure(v.Change, f[2]),
			})
		}
		for _, e := range ct.Added {
			jc.Exceptions.Added = append(jc.Exceptions.Added, exceptionJSON(&e))
		}
		for _, e := range ct.Resolved {
			jc.Exceptions.Resolved = append(jc.Exceptions.Resolved, exceptionJSON(&e))
		}
		for _, ec := range ct.Changed {
			jc.Exceptions.Changed = append(jc.Exceptions.Changed, jsonExceptionChange{
				Code: string(ec.New.Code), Counter: ec.New.Counter, Feed: ec.New.Feed, TxnID: ec.New.TxnID, Key: ec.New.Key,
				Fields: ec.Fields, Old: exceptionJSON(&ec.Old), New: exceptionJSON(&ec.New),
			})
		}
		out.Counters = append(out.Counters, jc)
	}
	return out
}

func figureNames(figs []Figure) []string {
	names := []string{}
	for _, f := range differing(figs) {
		names = append(names, f.Name)
	}
	return names
}

func count(ch Change, f Figure) jsonCount {
	c := jsonCount{Delta: f.Delta()}
	if ch != Added {
		c.Old = &f.Old
	}
	if ch != Removed {
		c.New = &f.New
	}
	return c
}

func moneyFigure(ch Change, f Figure) jsonMoney {
	m := jsonMoney{Delta: money.Format(f.Delta()), DeltaFen: f.Delta()}
	if ch != Added {
		s := money.Format(f.Old)
		m.Old, m.OldFen = &s, &f.Old
	}
	if ch != Removed {
		s := money.Format(f.New)
		m.New, m.NewFen = &s, &f.New
	}
	return m
}

func exceptionJSON(e *engine.Exception) jsonException {
	j := jsonException{Code: string(e.Code), Severity: string(e.Severity), City: e.City, Outlet: e.Outlet, Counter: e.Counter,
		Feed: e.Feed, TxnID: e.TxnID, Key: e.Key, Detail: e.Detail, Source: e.Source}
	if e.HasAmount {
		s, n := money.Format(e.Amount), e.Amount
		j.Amount, j.AmountFen = &s, &n
	}
	return j
}
