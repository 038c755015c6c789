// Package transforms_test holds the layer rule of the module (README, "How
// we write Go here"): cmd → pipeline (I/O, orchestration) → transforms (pure
// logic), one way.
package transforms_test

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

type listed struct {
	ImportPath                string
	Deps                      []string
	TestImports, XTestImports []string
}

// listPackages runs go list -deps -test=false over pattern.
func listPackages(t *testing.T, pattern string) []listed {
	t.Helper()
	cmd := exec.Command("go", "list", "-json=ImportPath,Deps,TestImports,XTestImports", pattern)
	cmd.Dir = ".."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pattern, err)
	}
	var pkgs []listed
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 {
		t.Fatalf("go list %s found no package", pattern)
	}
	return pkgs
}

const module = "github.com/recal-project/recal/"

// TestLayers: no transforms package depends on pipeline or cmd, or links
// arrow, Parquet or the AWS SDK (its tests included: they use no I/O
// layer either); no pipeline package depends on cmd.
func TestLayers(t *testing.T) {
	io := []string{"github.com/apache/arrow/", "github.com/xitongsys/parquet-go", "github.com/aws/aws-sdk-go-v2"}
	for _, p := range listPackages(t, "./transforms/...") {
		for _, d := range p.Deps {
			if strings.HasPrefix(d, module+"pipeline") || strings.HasPrefix(d, module+"cmd") {
				t.Errorf("%s depends on %s: transforms never imports pipeline or cmd", p.ImportPath, d)
			}
			for _, x := range io {
				if strings.HasPrefix(d, x) {
					t.Errorf("%s links %s: transforms has no I/O, no arrow", p.ImportPath, d)
				}
			}
		}
		for _, d := range append(p.TestImports, p.XTestImports...) {
			if strings.HasPrefix(d, module+"pipeline") || strings.HasPrefix(d, module+"cmd") {
				t.Errorf("%s's tests import %s", p.ImportPath, d)
			}
		}
	}
	for _, p := range listPackages(t, "./pipeline/...") {
		for _, d := range p.Deps {
			if strings.HasPrefix(d, module+"cmd") {
				t.Errorf("%s depends on %s: pipeline never imports cmd", p.ImportPath, d)
			}
		}
	}
}
