package engine

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// declared returns the constants of type typ declared in codes.go, by name.
func declared(t *testing.T, typ string) map[string]string {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	for _, d := range file.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			if id, ok := v.Type.(*ast.Ident); !ok || id.Name != typ {
				continue
			}
			for i, name := range v.Names {
				lit, err := strconv.Unquote(v.Values[i].(*ast.BasicLit).Value)
				if err != nil {
					t.Fatal(err)
				}
				consts[name.Name] = lit
			}
		}
	}
	return consts
}

// TestCodes walks every Code constant of codes.go: each is in Codes once, with both
// descriptions and a severity, and its name spells its value (CodeFooBar = "FOO_BAR").
func TestCodes(t *testing.T) {
	consts := declared(t, "Code")
	if len(consts) != 30 || len(Codes) != len(consts) {
		t.Errorf("%d Code constants and %d entries in Codes; RULES.md has 30 codes", len(consts), len(Codes))
	}
	for name, value := range consts {
		c, ok := CodeInfo(Code(value))
		if !ok {
			t.Errorf("%s (%s) is not in Codes", name, value)
			continue
		}
		if c.Zh == "" || c.En == "" {
			t.Errorf("%s: a description is empty: zh %q, en %q", value, c.Zh, c.En)
		}
		if c.Severity != SevError && c.Severity != SevWarning {
			t.Errorf("%s: severity %q", value, c.Severity)
		}
		if got := severity(c.Code); got != c.Severity {
			t.Errorf("severity(%s) = %q, want %q", value, got, c.Severity)
		}
		spelled := "Code" + strings.ReplaceAll(strings.Title(strings.ToLower(strings.ReplaceAll(value, "_", " "))), " ", "")
		if name != spelled && name != strings.Replace(spelled, "Imei", "IMEI", 1) {
			t.Errorf("constant %s holds %q", name, value)
		}
	}
	seen := map[Code]bool{}
	for _, c := range Codes {
		if seen[c.Code] {
			t.Errorf("%s is twice in Codes", c.Code)
		}
		seen[c.Code] = true
		if got, ok := CodeInfo(c.Code); !ok || got != c {
			t.Errorf("CodeInfo(%q) = %+v, %v; want %+v", c.Code, got, ok, c)
		}
	}
	if c, ok := CodeInfo("NO_SUCH_CODE"); ok || c != (CodeDesc{}) {
		t.Errorf("CodeInfo of an unknown code = %+v, %v", c, ok)
	}
	if sevs := declared(t, "Severity"); len(sevs) != 2 || sevs["SevError"] != "ERROR" || sevs["SevWarning"] != "WARNING" {
		t.Errorf("Severity constants: %v", sevs)
	}
}

func TestSeverityOfUnknownCodePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("severity of an unknown code did not panic")
		}
	}()
	severity("NO_SUCH_CODE")
}
