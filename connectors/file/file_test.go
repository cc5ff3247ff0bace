package file

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"settle/connectors"
	"settle/feed"
)

var day = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

// tree creates files (path relative to root → content) under root.
func tree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// inputs lists a Day's inputs as "feed name counter format" lines, in their order.
func inputs(d *connectors.Day) []string {
	var out []string
	for _, in := range d.Inputs {
		format := "csv"
		if in.Format == connectors.XLSX {
			format = "xlsx"
		}
		out = append(out, fmt.Sprintf("%s %s %q %s", in.Feed, in.Name, in.Counter, format))
	}
	return out
}

func missing(d *connectors.Day) []string {
	var out []string
	for _, m := range d.Missing {
		if m.Counter != "" || m.City != "" || m.Outlet != "" {
			out = append(out, "unexpected counter in "+m.Reason)
		}
		out = append(out, m.Feed.String()+": "+m.Reason)
	}
	return out
}

func TestScan(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	tree(t, outside, map[string]string{"deposit.csv": "x", "sub/invoice.csv": "x"})
	tree(t, root, map[string]string{
		// canonical, whole city
		"order.csv":           "order",
		"local_payment.CSV":   "lp",
		"payment_summary.csv": "ps",
		// BOSS report names, whole city and per counter, CSV and XLSX, in sub-folders
		"太原_购机日报.xlsx":                            "purchase",
		"TY0001/太原_TY0001-01_冲退日报.csv":            "r1",
		"TY0001/太原_TY0001-02_冲退日报.XLSX":           "r2",
		"TY0002/deep/TY0002-01_冲退日报_20261121.csv": "r3", // the run date is not a counter
		// canonical per counter: the canonical name's tokens are not the counter
		"TY0002/TY0002-01_local_payment.csv":     "lp1",
		"TY0002/TY0002-01_remote_payment.csv":    "rp1",
		"TY0002/remote_payment_TY0002-02.csv":    "rp2",
		"TY0002/TY0002-03_异地缴费日报_2026-11-21.csv": "rp3",
		// skipped
		"truth.csv":              "not a feed",
		"README.txt":             "not a feed",
		"card_sale.csv.bak":      "not .csv",
		"~$太原_商务卡日报.xlsx":        "lock file",
		".hidden/invoice.csv":    "hidden",
		".invoice.csv":           "hidden",
		"2026-11-20/invoice.csv": "another day",
		"20261119/invoice.csv":   "another day",
		"2026-13-01/invoice.csv": "not a date: read",
	})
	if err := os.Symlink(outside, filepath.Join(root, "linked")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "deposit.csv"), filepath.Join(root, "deposit.csv")); err != nil {
		t.Fatal(err)
	}

	d, skipped, err := New(root).Scan(context.Background(), day, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`order order.csv "" csv`,
		`purchase 太原_购机日报.xlsx "" xlsx`,
		`reversal TY0001/太原_TY0001-01_冲退日报.csv "TY0001-01" csv`,
		`reversal TY0001/太原_TY0001-02_冲退日报.XLSX "TY0001-02" xlsx`,
		`reversal TY0002/deep/TY0002-01_冲退日报_20261121.csv "TY0002-01" csv`,
		`payment_summary payment_summary.csv "" csv`,
		`local_payment TY0002/TY0002-01_local_payment.csv "TY0002-01" csv`,
		`local_payment local_payment.CSV "" csv`,
		`remote_payment TY0002/TY0002-01_remote_payment.csv "TY0002-01" csv`,
		`remote_payment TY0002/TY0002-03_异地缴费日报_2026-11-21.csv "TY0002-03" csv`,
		`remote_payment TY0002/remote_payment_TY0002-02.csv "TY0002-02" csv`,
		`invoice 2026-13-01/invoice.csv "" csv`,
	}
	if got := inputs(d); !reflect.DeepEqual(got, want) {
		t.Errorf("inputs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantMissing := []string{
		fmt.Sprintf("card_sale: no file for feed card_sale (商务卡日报) under %q", root),
		fmt.Sprintf("deposit: no file for feed deposit (解款日报) under %q", root),
	}
	if got := missing(d); !reflect.DeepEqual(got, wantMissing) {
		t.Errorf("missing:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantMissing, "\n"))
	}
	wantSkipped := []Skipped{
		{".hidden", SkipHidden},
		{".invoice.csv", SkipHidden},
		{"2026-11-20", SkipOtherDay},
		{"20261119", SkipOtherDay},
		{"README.txt", SkipFormat},
		{"card_sale.csv.bak", SkipFormat},
		{"deposit.csv", SkipSymlink},
		{"linked", SkipSymlink},
		{"truth.csv", SkipNoFeed},
		{"~$太原_商务卡日报.xlsx", SkipHidden},
	}
	if !reflect.DeepEqual(skipped, wantSkipped) {
		t.Errorf("skipped:\n%v\nwant\n%v", skipped, wantSkipped)
	}
	wantStats := map[feed.ID]connectors.FeedStats{
		feed.Order: {Files: 1, Bytes: 5}, feed.Purchase: {Files: 1, Bytes: 8},
		feed.Reversal: {Files: 3, Bytes: 6}, feed.PaymentSummary: {Files: 1, Bytes: 2},
		feed.LocalPayment: {Files: 2, Bytes: 5}, feed.RemotePayment: {Files: 3, Bytes: 9},
		feed.Invoice: {Files: 1, Bytes: 16},
	}
	for _, id := range feed.All {
		if d.Stats[id] != wantStats[id] {
			t.Errorf("stats of %s: %+v, want %+v", id, d.Stats[id], wantStats[id])
		}
	}
	if d.Roster != nil {
		t.Errorf("roster %v", d.Roster)
	}
	// Open reads the file, and may be called again.
	for range 2 {
		rc, err := d.Inputs[3].Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(b) != "r2" {
			t.Errorf("Open of %s: %q, %v", d.Inputs[3].Name, b, err)
		}
	}
}

func TestScanDateFolder(t *testing.T) {
	for _, folder := range []string{"2026-11-21", "20261121"} {
		t.Run(folder, func(t *testing.T) {
			root := t.TempDir()
			tree(t, root, map[string]string{
				folder + "/order.csv":                 "x",
				folder + "/TY0001/TY0001-01_购机日报.csv": "x",
				"2026-11-20/invoice.csv":              "another day",
				"deposit.csv":                         "outside the day's folder",
			})
			d, err := New(root).Fetch(context.Background(), day, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{`order order.csv "" csv`, `purchase TY0001/TY0001-01_购机日报.csv "TY0001-01" csv`}
			if got := inputs(d); !reflect.DeepEqual(got, want) {
				t.Errorf("inputs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if len(d.Missing) != 7 {
				t.Fatalf("%d missing, want 7", len(d.Missing))
			}
			want0 := fmt.Sprintf("no file for feed reversal (冲退日报) under %q", filepath.Join(root, folder))
			if d.Missing[0].Feed != feed.Reversal || d.Missing[0].Reason != want0 {
				t.Errorf("first missing %v %q, want reversal %q", d.Missing[0].Feed, d.Missing[0].Reason, want0)
			}
			if w := d.Missing[0].Why; w.Kind != connectors.WhyNoFile || w.Dir != filepath.Join(root, folder) {
				t.Errorf("first missing's why = %+v, want no file under %q", w, filepath.Join(root, folder))
			}
		})
	}
}

// TestScanSymlinkedRoot: the directory given (or the date folder) may be a link.
func TestScanSymlinkedRoot(t *testing.T) {
	real := t.TempDir()
	tree(t, real, map[string]string{"sub/order.csv": "x"})
	link := filepath.Join(t.TempDir(), "current")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	d, err := New(link).Fetch(context.Background(), day, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := inputs(d), []string{`order sub/order.csv "" csv`}; !reflect.DeepEqual(got, want) {
		t.Errorf("inputs %q, want %q", got, want)
	}
	if !strings.Contains(d.Missing[0].Reason, fmt.Sprintf("%q", link)) {
		t.Errorf("missing reason %q does not name %q", d.Missing[0].Reason, link)
	}
}

func TestScanEmpty(t *testing.T) {
	root := t.TempDir()
	var p steps
	d, err := New(root).Fetch(context.Background(), day, &p)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Inputs) != 0 || len(d.Missing) != int(feed.Count) {
		t.Fatalf("%d inputs, %d missing", len(d.Inputs), len(d.Missing))
	}
	for i, m := range d.Missing {
		if m.Feed != feed.All[i] {
			t.Errorf("missing[%d] is %s", i, m.Feed)
		}
	}
	if p != "scan 0/0;" {
		t.Errorf("progress %q", p)
	}
}

type steps string

func (s *steps) Step(what string, done, total int) {
	*s += steps(fmt.Sprintf("%s %d/%d;", what, done, total))
}

func TestScanErrors(t *testing.T) {
	root := t.TempDir()
	tree(t, root, map[string]string{"order.csv": "x"})
	file := filepath.Join(root, "order.csv")
	tests := []struct {
		root string
		want string
	}{
		{filepath.Join(root, "nope"), fmt.Sprintf("source directory %q: no such file or directory", filepath.Join(root, "nope"))},
		{file, fmt.Sprintf("source directory %q: not a directory", file)},
	}
	for _, tt := range tests {
		d, err := New(tt.root).Fetch(context.Background(), day, nil)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Fetch(%q) = %v, %v; want error %q", tt.root, d, err, tt.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(root).Fetch(ctx, day, nil); err != context.Canceled {
		t.Errorf("canceled: %v", err)
	}
	if New(root).Describe() != root {
		t.Errorf("Describe() = %q", New(root).Describe())
	}
}

// TestScanUnreadableFolder: a folder that cannot be listed is skipped with the reason.
func TestScanUnreadableFolder(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every folder")
	}
	root := t.TempDir()
	tree(t, root, map[string]string{"order.csv": "x", "locked/purchase.csv": "x"})
	locked := filepath.Join(root, "locked")
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(locked, 0o755)
	_, skipped, err := New(root).Scan(context.Background(), day, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0].Name != "locked" || !strings.HasPrefix(skipped[0].Reason, "cannot read: ") {
		t.Errorf("skipped %v", skipped)
	}
}

func TestCounterOf(t *testing.T) {
	tests := []struct {
		base string
		id   feed.ID
		want string
	}{
		{"order", feed.Order, ""},
		{"太原_TY0001-03_购机日报", feed.Purchase, "TY0001-03"},
		{"太原_购机日报", feed.Purchase, ""},
		{"购机日报", feed.Purchase, ""},
		{"TY0001-03_payment_summary", feed.PaymentSummary, "TY0001-03"},
		{"payment_summary", feed.PaymentSummary, ""},
		{"order_TY0001-03_order", feed.Order, "TY0001-03"},
		{"TY0001-03_交费日报_20261121", feed.PaymentSummary, "TY0001-03"},
		{"TY0001-03_交费日报_20261120", feed.PaymentSummary, "20261120"},
		{"123456789012345678901234567890123_交费日报", feed.PaymentSummary, ""}, // 33 characters
		{"TY.01_交费日报", feed.PaymentSummary, ""},
		{"a__b_交费日报", feed.PaymentSummary, "b"},
	}
	for _, tt := range tests {
		if got := counterOf(tt.base, tt.id, day); got != tt.want {
			t.Errorf("counterOf(%q) = %q, want %q", tt.base, got, tt.want)
		}
	}
}

func TestFeedOf(t *testing.T) {
	tests := []struct {
		base string
		want feed.ID
		ok   bool
	}{
		{"order", feed.Order, true},
		{"local_payment", feed.LocalPayment, true},
		{"TY0001-03_local_payment", feed.LocalPayment, true},
		{"TY0001-03_payment_summary", feed.PaymentSummary, true},
		{"太原_本地缴费日报", feed.LocalPayment, true}, // not 缴费日报
		{"太原_交费日报", feed.PaymentSummary, true},
		{"orders", 0, false},
		{"local", 0, false},
		{"truth", 0, false},
	}
	for _, tt := range tests {
		got, ok := feedOf(tt.base)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("feedOf(%q) = %v, %v; want %v, %v", tt.base, got, ok, tt.want, tt.ok)
		}
	}
}
