package deflate64

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"testing"
)

// BenchmarkInflate compares the decoder (DEFLATE mode, the same code as
// Deflate64's) with compress/flate on one text-like stream.
func BenchmarkInflate(b *testing.B) {
	data := corpus(rand.New(rand.NewPCG(9, 9)), 8<<20)
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	w.Write(data)
	w.Close()
	for _, c := range []struct {
		name string
		open func(io.Reader) io.Reader
	}{
		{"deflate64", func(r io.Reader) io.Reader { return newReader(r, false) }},
		{"compress-flate", func(r io.Reader) io.Reader { return flate.NewReader(r) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := io.Copy(io.Discard, c.open(bytes.NewReader(buf.Bytes()))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
