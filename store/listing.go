package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"settle/connectors"
)

// The kept-inputs listing (issue 17): a run's record of its kept inputs (Kept: inputs,
// missing inputs, roster) is not written into manifest.json, where a pulled city-day's 20,565
// inputs took ~5 MB of every run's manifest, but into the date's inputs folder as one more
// content-addressed file, inputs/<sha256>.zst, named by the sha256 of the listing's bytes:
// the runs of a date that read the same inputs (a rerun, a run taken from the kept inputs)
// share one listing. manifest.json names it (kept.listing) with the count of inputs; reading
// the manifest reads the listing back (checked against its sha256), so that callers see the
// same Manifest as before. Manifests written before it hold the record itself and read as
// they did.
//
// The listing is text, so that reading it costs little: a first line naming the format, a
// line of JSON with the missing inputs and the roster, then one line per input, in the
// run's order: feed, name, counter (both quoted as Go strings), "pull" or "file", format,
// sha256, size, separated by tabs.

// listingHeader is the listing's first line.
const listingHeader = "settle kept inputs 1"

// listingExtra is the JSON line of the listing.
type listingExtra struct {
	Missing []KeptMissing        `json:"missing,omitempty"`
	Roster  []connectors.Counter `json:"roster,omitempty"`
}

// marshalListing returns the listing of k (its inputs, missing inputs and roster).
func marshalListing(k *Kept) ([]byte, error) {
	extra, err := json.Marshal(listingExtra{Missing: k.Missing, Roster: k.Roster})
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(listingHeader)+len(extra)+2+len(k.Inputs)*160)
	b = append(b, listingHeader...)
	b = append(b, '\n')
	b = append(b, extra...)
	b = append(b, '\n')
	for _, in := range k.Inputs {
		b = append(b, in.Feed...)
		b = append(b, '\t')
		b = strconv.AppendQuote(b, in.Name)
		b = append(b, '\t')
		b = strconv.AppendQuote(b, in.Counter)
		if in.Pull {
			b = append(b, "\tpull\t"...)
		} else {
			b = append(b, "\tfile\t"...)
		}
		b = append(b, in.Format...)
		b = append(b, '\t')
		b = append(b, in.SHA256...)
		b = append(b, '\t')
		b = strconv.AppendInt(b, in.Size, 10)
		b = append(b, '\n')
	}
	return b, nil
}

// parseListing reads a listing into k's inputs, missing inputs and roster.
func parseListing(data []byte, k *Kept) error {
	s := string(data) // the inputs' strings are cut from it, not copied
	line, rest, ok := strings.Cut(s, "\n")
	if !ok || line != listingHeader {
		return fmt.Errorf("line 1: not a kept-inputs listing (want %q)", listingHeader)
	}
	line, rest, ok = strings.Cut(rest, "\n")
	if !ok {
		return errors.New("line 2: missing")
	}
	var extra listingExtra
	if err := json.Unmarshal([]byte(line), &extra); err != nil {
		return fmt.Errorf("line 2: %w", err)
	}
	k.Missing, k.Roster = extra.Missing, extra.Roster
	k.Inputs = make([]KeptInput, 0, strings.Count(rest, "\n"))
	var f [7]string
	for n := 3; rest != ""; n++ {
		line, rest, ok = strings.Cut(rest, "\n")
		if !ok {
			return fmt.Errorf("line %d: not ended", n)
		}
		for i := range 6 {
			var found bool
			if f[i], line, found = strings.Cut(line, "\t"); !found {
				return fmt.Errorf("line %d: %d fields, want 7", n, i+1)
			}
		}
		f[6] = line
		var in KeptInput
		var err error
		in.Feed = f[0]
		if in.Name, err = unquote(f[1]); err != nil {
			return fmt.Errorf("line %d: name %s: %w", n, f[1], err)
		}
		if in.Counter, err = unquote(f[2]); err != nil {
			return fmt.Errorf("line %d: counter %s: %w", n, f[2], err)
		}
		switch f[3] {
		case "pull":
			in.Pull = true
		case "file":
		default:
			return fmt.Errorf("line %d: %q is neither pull nor file", n, f[3])
		}
		in.Format, in.SHA256 = f[4], f[5]
		if !validSum(in.SHA256) {
			return fmt.Errorf("line %d: bad sha256 %q", n, in.SHA256)
		}
		if in.Size, err = strconv.ParseInt(f[6], 10, 64); err != nil || in.Size < 0 {
			return fmt.Errorf("line %d: bad size %q", n, f[6])
		}
		k.Inputs = append(k.Inputs, in)
	}
	return nil
}

// unquote is strconv.Unquote of a double-quoted string, without a copy when it has no escape.
func unquote(q string) (string, error) {
	if len(q) >= 2 && q[0] == '"' && q[len(q)-1] == '"' && !strings.ContainsAny(q[1:len(q)-1], `\"`) {
		return q[1 : len(q)-1], nil
	}
	return strconv.Unquote(q)
}

// writeListing keeps k's listing in the date's inputs folder (inputs/<sha256>.zst, unless it
// is there) and returns its sha256.
func writeListing(dateDir string, k *Kept) (string, error) {
	data, err := marshalListing(k)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	hexSum := hex.EncodeToString(sum[:])
	dir := filepath.Join(dateDir, InputsName)
	if keptThere(filepath.Join(dir, hexSum+".zst")) {
		return hexSum, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	enc, err := zenc()
	if err != nil {
		return "", err
	}
	if err := writeKept(dir, hexSum, enc.EncodeAll(data, make([]byte, 0, len(data)/4+64))); err != nil {
		return "", err
	}
	return hexSum, nil
}

// loadListing fills k (read from the manifest at manifestPath, k.Listing set) from its
// listing: <date>/inputs/<listing>.zst beside the run's directory (runs/<id>, or the date's
// current link to it), checked against its sha256 and k.Count.
func loadListing(manifestPath string, k *Kept) error {
	if !validSum(k.Listing) {
		return fmt.Errorf("kept inputs listing: bad sha256 %q", k.Listing)
	}
	runDir, err := filepath.EvalSymlinks(filepath.Dir(manifestPath))
	if err != nil {
		return fmt.Errorf("kept inputs listing %s: %w", k.Listing, err)
	}
	if filepath.Base(filepath.Dir(runDir)) != runsName {
		return fmt.Errorf("kept inputs listing %s: %q is not in a date's %s folder", k.Listing, runDir, runsName)
	}
	dir := filepath.Join(filepath.Dir(filepath.Dir(runDir)), InputsName)
	z, err := os.ReadFile(filepath.Join(dir, k.Listing+".zst"))
	if err != nil {
		return fmt.Errorf("kept inputs listing: %w", err)
	}
	dec, err := zdec()
	if err != nil {
		return err
	}
	data, err := dec.DecodeAll(z, nil)
	if err != nil {
		return fmt.Errorf("kept inputs listing %s.zst: %w", k.Listing, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != k.Listing {
		return fmt.Errorf("kept inputs listing %s.zst: its bytes are not those the manifest names", k.Listing)
	}
	if err := parseListing(data, k); err != nil {
		return fmt.Errorf("kept inputs listing %s.zst: %w", k.Listing, err)
	}
	if len(k.Inputs) != k.Count {
		return fmt.Errorf("kept inputs listing %s.zst: %d inputs, the manifest says %d", k.Listing, len(k.Inputs), k.Count)
	}
	return nil
}
