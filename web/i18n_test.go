package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"settle/diff"
	"settle/internal/i18n"
	"settle/web/signoff"
	"settle/web/users"
	"settle/workflow"
)

// Every message the templates and handlers name exists in both languages.
func TestMessages(t *testing.T) {
	need := map[string]bool{}
	re := regexp.MustCompile(`\.(?:T|Tf) "([a-z_]+)"`)
	fs.WalkDir(templateFS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := templateFS.ReadFile(p)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			need[m[1]] = true
		}
		return nil
	})
	for _, r := range []users.Role{users.Clerk, users.Reviewer, users.Auditor} {
		need["role_"+string(r)] = true
	}
	for _, a := range []signoff.Action{signoff.Certify, signoff.Approve, signoff.Return, signoff.Reopen} {
		need["act_"+string(a)] = true
		need["ok_"+string(a)] = true
	}
	need["act_"+string(signoff.Repair)] = true
	for _, a := range trailActions {
		need["act_"+a] = true
	}
	for _, st := range workflow.States {
		need["wf_st_"+st] = true
	}
	for _, a := range []string{workflow.ActExplain, workflow.ActAccept, workflow.ActReject, workflow.ActAcknowledge, "upload"} {
		need["ok_"+a] = true
	}
	for _, n := range []string{"slip", "ticket", "form", "text"} {
		need["wf_need_"+n] = true
	}
	for _, k := range []string{"err_reload", "err_reason", "err_item_state", "err_items_open", "err_items_undecided", "err_day_open"} {
		need[k] = true
	}
	for _, s := range []string{"queued", "start", "render", "scan", "pull", "read", "reports"} {
		need["stage_"+s] = true
	}
	for _, k := range []string{diff.KindSettlement, diff.KindVariance, diff.KindException} {
		need["kind_"+k] = true
	}
	for _, c := range []diff.Change{diff.Changed, diff.Added, diff.Removed, diff.Resolved} {
		need["change_"+string(c)] = true
	}
	for _, c := range []string{diff.CauseInputs, diff.CauseVersion, diff.CauseBoth, diff.CauseNeither} {
		need["cause_"+c] = true
	}
	for _, k := range []string{"state_open", "state_certified", "state_approved", "state_returned", "state_reopened",
		"err_stale", "err_state", "err_incomplete", "err_errors_need_note", "err_confirm", "err_comment_required", "err_future",
		"forbidden", "forbidden_counter", "not_found", "bad_request", "server_error", "login_expired", "login_failed", "login_limited",
		"counter_absent", "pinned_missing", "report_altered", "elapsed"} {
		need[k] = true
	}
	for k := range need {
		if !known(k) {
			t.Errorf("message %q is used but not defined", k)
		}
	}

	// Every message defined is used: named by a template or by the package's Go code, or
	// built from one of the prefixes the code adds to a value.
	used := goStrings(t)
	quoted := regexp.MustCompile(`"([a-z0-9_]+)"`)
	fs.WalkDir(templateFS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := templateFS.ReadFile(p)
		for _, m := range quoted.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
		return nil
	})
	dynamic := []string{"role_", "act_", "ok_", "err_", "stage_", "kind_", "change_", "cause_", "f_", "wf_st_", "wf_need_"}
	for key := range i18n.PageKeys() {
		k := key.Name()
		if !used[k] && !slices.ContainsFunc(dynamic, func(p string) bool { return strings.HasPrefix(k, p) }) {
			t.Errorf("message %q is defined but not used", k)
		}
	}
	// The pages name things as the reports do.
	if got := langs["en"].Pay("POS") + "/" + langs["zh"].Pay("CASH") + "/" + langs["zh"].Cat("CARD") + "/" + langs["en"].Sev("ERROR"); got != "Bank card (POS)/现金/商务卡/ERROR" {
		t.Errorf("names: %s", got)
	}
	if strings.Contains(langs["zh"].Code("DEPOSIT_SHORT"), "DEPOSIT") {
		t.Errorf("code description: %s", langs["zh"].Code("DEPOSIT_SHORT"))
	}
}

// goStrings are the string literals of the package's Go code outside its tests.
func goStrings(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.BasicLit:
				if n.Kind == token.STRING {
					if s, err := strconv.Unquote(n.Value); err == nil {
						out[s] = true
					}
				}
			}
			return true
		})
	}
	return out
}
