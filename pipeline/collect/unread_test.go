package collect

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/recal-project/recal/pipeline/storage/local"
	"github.com/recal-project/recal/transforms/civil"
	"github.com/recal-project/recal/transforms/export"
	"github.com/recal-project/recal/transforms/policy"
	"github.com/recal-project/recal/transforms/reference"
)

// TestUnreadColumns reads the bundled sample under every shipped policy
// twice, leaving out the columns the policy does not read and decoding
// them all: the case records, rejects and data-quality counts must be the
// same. Two of the policies read application_outcome and
// pending_applications, so both paths are taken.
func TestUnreadColumns(t *testing.T) {
	ref, err := reference.Default()
	if err != nil {
		t.Fatal(err)
	}
	st := local.New(filepath.Join("..", "..", "testdata", "sample", "export"))
	objs, err := st.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	asOf, _ := civil.ParseDate("2026-01-15")
	skipped := 0
	for _, id := range policy.Shipped() {
		t.Run(id, func(t *testing.T) {
			pol, err := policy.LoadShipped(id)
			if err != nil {
				t.Fatal(err)
			}
			o := Options{Ref: ref, Policy: pol, AsOf: asOf, Workers: 2}
			var got [2]*Collected
			for k, un := range []func(int) bool{unread(pol), nil} {
				col, _, err := read(context.Background(), st, objs, o, un)
				if err != nil {
					t.Fatal(err)
				}
				defer col.Free()
				col.Dedupe(nil)
				got[k] = col
			}
			for c, col := range export.Columns {
				if unread(pol)(c) {
					skipped++
					if pol.Reads(col.Name) {
						t.Errorf("%s is left out, but the policy reads it", col.Name)
					}
				}
			}
			a, b := got[0], got[1]
			if len(a.Cases) != len(b.Cases) {
				t.Fatalf("%d case records leaving columns out, %d decoding all", len(a.Cases), len(b.Cases))
			}
			for i := range a.Cases {
				// Judge indices follow the order codes arrive in (cases.Judges):
				// compared as codes.
				x, y := a.Cases[i], b.Cases[i]
				jx, jy := a.Judges.Code(x.IJ), b.Judges.Code(y.IJ)
				x.IJ, y.IJ = 0, 0
				if x != y || jx != jy {
					t.Fatalf("case %d differs leaving columns out:\n%+v %s\n%+v %s", i, x, jx, y, jy)
				}
			}
			if !slices.Equal(a.Rejects, b.Rejects) || a.Quality != b.Quality {
				t.Fatal("rejects or data quality differ when columns are left out")
			}
		})
	}
	if skipped == 0 {
		t.Fatal("no policy left a column out: the test proves nothing")
	}
}

// TestUnreadFollowsThePolicy: a policy-only column is decoded exactly
// when the policy names it.
func TestUnreadFollowsThePolicy(t *testing.T) {
	src, _ := policy.ShippedSource("castro-tum-2018")
	for _, tc := range []struct {
		name, from, to string
		reads          []string
	}{
		{"castro-tum-2018", "", "", nil},
		{"case_type and recal_motion_dec", "when: crim_ind || aggravate_felon", `when: case_type == "RMV" || recal_motion_dec == "G"`, []string{"case_type", "recal_motion_dec"}},
		{"pending_applications", "when: crim_ind || aggravate_felon", `when: size(pending_applications) > 0`, []string{"pending_applications"}},
		{"application_outcome", "when: crim_ind || aggravate_felon", `when: application_outcome == "PENDING"`, []string{"application_outcome"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y := strings.Replace(string(src), tc.from, tc.to, 1)
			if tc.from != "" && y == string(src) {
				t.Fatalf("%q not in the policy", tc.from)
			}
			pol, err := policy.Load("p.yaml", []byte(y))
			if err != nil {
				t.Fatal(err)
			}
			un := unread(pol)
			for _, name := range policyOnly {
				c := slices.IndexFunc(export.Columns, func(col export.Column) bool { return col.Name == name })
				if want := !slices.Contains(tc.reads, name); un(c) != want {
					t.Errorf("%s left out: %v, want %v", name, un(c), want)
				}
			}
		})
	}
}

// TestPolicyOnlyColumns keeps the columns that may go unread to optional
// string and list columns of the export: a required column left out would
// turn its rows' missing-value rejections into accepted rows, and a date or
// flag left out would drop its malformed-value counts.
func TestPolicyOnlyColumns(t *testing.T) {
	for _, name := range policyOnly {
		c := slices.IndexFunc(export.Columns, func(col export.Column) bool { return col.Name == name })
		if c < 0 {
			t.Fatalf("%s is not an export column", name)
		}
		col := export.Columns[c]
		if col.Required || (col.Kind != export.KindString && col.Kind != export.KindStringList) {
			t.Errorf("%s (required %v, kind %v) may not be left unread", name, col.Required, col.Kind)
		}
	}
}
