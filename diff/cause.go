package diff

import (
	"settle/feed"
	"settle/store"
)

// Bases of Cause: how the inputs were compared.
const (
	// BasisChecksums: both manifests carry the engine's sha256 of the inputs (every input's
	// name and bytes), overall and per feed; equal checksums are the same inputs.
	BasisChecksums = "checksums"
	// BasisCounts: a manifest lacks the checksums (written before settle recorded them), so
	// the inputs count as changed when a feed's counts (inputs, files, pulls, bytes, rows
	// read, valid, rejected) or the checksum of its normalized rows (feeds/<feed>.parquet)
	// differ. A change of version alone can then look like one of inputs.
	BasisCounts = "counts"
)

// Kinds of cause, from Cause.Kind.
const (
	CauseInputs  = "inputs"  // the inputs changed, the tool version did not
	CauseVersion = "version" // the tool version changed, the inputs did not
	CauseBoth    = "both"
	CauseNeither = "neither" // same inputs, same version: differences come from elsewhere (stored history of earlier days, configuration)
)

// Cause is what the manifests say about why two runs differ.
type Cause struct {
	Inputs  bool   // the inputs changed
	Version bool   // the tool version changed
	Basis   string // BasisChecksums or BasisCounts
	// Feeds lists the feeds whose manifest figures differ, in canonical order.
	Feeds []FeedChange
	// DetailLangs are the languages of the details of a and b (manifest detail_lang; ""
	// for a run written before settle recorded it).
	DetailLangs [2]string
}

// DetailsCompared reports whether the two runs' details are in one language, so that a
// detail that differs says something changed. When they are not (a run with --lang en
// against one in Chinese, or against a run from before every detail followed --lang),
// an exception whose only difference is its detail is unchanged: the text was translated,
// the finding is the same (its code, counter, feed, txn, key, severity, amount, city and
// outlet are all compared still).
func (c Cause) DetailsCompared() bool { return c.DetailLangs[0] == c.DetailLangs[1] }

// Kind is CauseInputs, CauseVersion, CauseBoth or CauseNeither.
func (c Cause) Kind() string {
	switch {
	case c.Inputs && c.Version:
		return CauseBoth
	case c.Inputs:
		return CauseInputs
	case c.Version:
		return CauseVersion
	}
	return CauseNeither
}

// FeedChange is one feed's manifest figures in both runs.
type FeedChange struct {
	Feed   string
	A, B   FeedFigures
	Fields []string // what differs: sha256, inputs, files, pulls, bytes, rows_read, valid, rejected, rows_sha256
}

// FeedFigures are a feed's figures of one manifest.
type FeedFigures struct {
	Inputs, Files, Pulls int
	Bytes                int64
	RowsRead             int
	Valid, Rejected      int
	SHA256               string // checksum of the feed's inputs; empty in older manifests
	RowsSHA256           string // checksum of feeds/<feed>.parquet, the normalized valid rows
}

func compareCause(a, b *store.Manifest) Cause {
	c := Cause{Version: a.ToolVersion != b.ToolVersion, Basis: BasisCounts, DetailLangs: [2]string{a.DetailLang, b.DetailLang}}
	if a.InputDigest != "" && b.InputDigest != "" {
		c.Basis = BasisChecksums
		c.Inputs = a.InputDigest != b.InputDigest
	}
	fa, fb := feedFigures(a), feedFigures(b)
	for _, id := range feed.All {
		x, y := fa[id.String()], fb[id.String()]
		var fields []string
		add := func(name string, differs bool) {
			if differs {
				fields = append(fields, name)
			}
		}
		add("sha256", x.SHA256 != y.SHA256)
		add("inputs", x.Inputs != y.Inputs)
		add("files", x.Files != y.Files)
		add("pulls", x.Pulls != y.Pulls)
		add("bytes", x.Bytes != y.Bytes)
		add("rows_read", x.RowsRead != y.RowsRead)
		add("valid", x.Valid != y.Valid)
		add("rejected", x.Rejected != y.Rejected)
		add("rows_sha256", x.RowsSHA256 != y.RowsSHA256)
		if fields == nil {
			continue
		}
		c.Feeds = append(c.Feeds, FeedChange{Feed: id.String(), A: x, B: y, Fields: fields})
		if c.Basis == BasisCounts {
			c.Inputs = true
		}
	}
	return c
}

// feedFigures indexes a manifest's feeds by name.
func feedFigures(m *store.Manifest) map[string]FeedFigures {
	out := make(map[string]FeedFigures, len(m.Feeds))
	for _, f := range m.Feeds {
		out[f.Feed] = FeedFigures{
			Inputs: f.Inputs, Files: f.Files, Pulls: f.Pulls, Bytes: f.Bytes,
			RowsRead: f.RowsRead, Valid: f.Valid, Rejected: f.Rejected, SHA256: f.SHA256,
		}
	}
	for _, id := range feed.All {
		ff := out[id.String()]
		ff.RowsSHA256 = m.Outputs[store.FeedPath(id)].SHA256
		out[id.String()] = ff
	}
	return out
}
