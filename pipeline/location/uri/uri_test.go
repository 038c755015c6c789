package uri

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want URI
		bad  bool
	}{
		{in: "out/run1", want: URI{Scheme: "file", Path: "out/run1"}},
		{in: "/tmp/x/", want: URI{Scheme: "file", Path: "/tmp/x"}},
		{in: "file:///tmp/x", want: URI{Scheme: "file", Path: "/tmp/x"}},
		{in: "file://localhost/tmp/x", want: URI{Scheme: "file", Path: "/tmp/x"}},
		{in: "s3://bucket", want: URI{Scheme: "s3", Bucket: "bucket"}},
		{in: "s3://bucket/a/b/", want: URI{Scheme: "s3", Bucket: "bucket", Path: "a/b"}},
		{in: "s3://", bad: true},
		{in: "s3://Bucket/x", bad: true},
		{in: "s3://b/a/../../etc", bad: true},
		{in: "s3://b/a//b", bad: true},
		{in: "s3://b/a\u202eb", bad: true},
		{in: "gs://b/x", bad: true},
		{in: "file://host/x", bad: true},
		{in: "", bad: true},
		{in: "a\x00b", bad: true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if tt.bad {
			if !errors.Is(err, ErrBadURI) {
				t.Errorf("Parse(%q) = %+v, %v; want ErrBadURI", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"s3://b/p", "file:///x", "rel/path", "s3://b/../x", "gs://x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := Parse(s)
		if err != nil {
			return
		}
		if u.Scheme == "s3" {
			if _, err := Parse(u.String()); err != nil {
				t.Fatalf("round trip of %q → %q fails: %v", s, u.String(), err)
			}
		}
	})
}
