package workflow

import (
	"errors"
	"testing"

	"settle/engine"
)

// TestReexplainWhileCertified: after a reviewer rejects an item of a certified counter-day,
// the clerk explains it again (WORKFLOW.md: rejected → explained, no certification
// condition); the day stays certified and pinned; a reviewer accepts and approves. Warnings
// are not acknowledged while certified; nothing moves once approved.
func TestReexplainWhileCertified(t *testing.T) {
	d := open(t, t.TempDir())
	const date = "2026-11-21"
	imei := exc(engine.CodeIMEIDuplicate, engine.SevError, "C1", "T9", 0)
	warn := exc(engine.CodeRemotePending, engine.SevWarning, "C1", "T5", 100)
	raise(t, d, date, "C1", "run1", imei, warn)
	i := items(t, d, Filter{})["IMEI_DUPLICATE/T9"]
	w := items(t, d, Filter{})["REMOTE_PENDING/T5"]
	if _, err := d.Apply(ctx, clerk, []Change{{ID: i.ID, Action: ActExplain, Reason: "OPERATOR_ERROR", Text: "sold twice"}}, nil); err != nil {
		t.Fatal(err)
	}
	snap, _ := d.Snapshot(ctx, date, "TY0001", "C1")
	if _, err := d.Sign(ctx, clerk, Signoff{Action: ActCertify, Date: date, Outlet: "TY0001", Counter: "C1", RunID: "run1", PDFSHA256: "p", CertSHA256: "c", Snapshot: snap}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Apply(ctx, rev, []Change{{ID: i.ID, Action: ActReject, Comment: "which sale?"}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Apply(ctx, clerk, []Change{{ID: w.ID, Action: ActAcknowledge}}, nil); !errors.Is(err, ErrState) {
		t.Errorf("acknowledge while certified: %v, want ErrState", err)
	}
	out, err := d.Apply(ctx, clerk, []Change{{ID: i.ID, Action: ActExplain, Reason: "OPERATOR_ERROR", Text: "test sale voided"}}, nil)
	if err != nil || out[0].State != StateExplained {
		t.Fatalf("re-explain while certified: %v", err)
	}
	if id, st, _ := d.Pinned(ctx, date, "TY0001", "C1"); id != "run1" || st != StatusCertified {
		t.Errorf("after re-explaining: pinned %q %s, want run1 certified", id, st)
	}
	if _, err := d.Apply(ctx, rev, []Change{{ID: i.ID, Action: ActAccept}}, nil); err != nil {
		t.Fatal(err)
	}
	snap, _ = d.Snapshot(ctx, date, "TY0001", "C1")
	if _, err := d.Sign(ctx, rev, Signoff{Action: ActApprove, Date: date, Outlet: "TY0001", Counter: "C1", RunID: "run1", Snapshot: snap}); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if _, err := d.Apply(ctx, clerk, []Change{{ID: w.ID, Action: ActAcknowledge}}, nil); !errors.Is(err, ErrState) {
		t.Errorf("acknowledge while approved: %v, want ErrState", err)
	}
}

// TestFourEyes: a reviewer may explain an item (for a clerk), but another reviewer decides
// on it.
func TestFourEyes(t *testing.T) {
	d := open(t, t.TempDir())
	const date = "2026-11-21"
	raise(t, d, date, "C1", "run1", exc(engine.CodeIMEIDuplicate, engine.SevError, "C1", "T9", 0))
	i := items(t, d, Filter{})["IMEI_DUPLICATE/T9"]
	if _, err := d.Apply(ctx, rev, []Change{{ID: i.ID, Action: ActExplain, Reason: "OPERATOR_ERROR", Text: "sold twice"}}, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []Change{{ID: i.ID, Action: ActAccept}, {ID: i.ID, Action: ActReject, Comment: "no"}} {
		if _, err := d.Apply(ctx, rev, []Change{c}, nil); !errors.Is(err, ErrOwn) {
			t.Errorf("%s of one's own explanation: %v, want ErrOwn", c.Action, err)
		}
	}
	other := Actor{User: "sun", Display: "孙复核", Role: "reviewer"}
	if out, err := d.Apply(ctx, other, []Change{{ID: i.ID, Action: ActAccept}}, nil); err != nil || out[0].State != StateAccepted {
		t.Fatalf("another reviewer accepts: %v", err)
	}
}
