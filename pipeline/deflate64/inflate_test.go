package deflate64

import (
	"bytes"
	"compress/flate"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// bitWriter writes a DEFLATE bit stream: header fields and extra bits
// least significant bit first, Huffman codes most significant bit first.
type bitWriter struct {
	out  []byte
	acc  uint64
	nacc uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.acc |= v << w.nacc
	w.nacc += n
	for w.nacc >= 8 {
		w.out = append(w.out, byte(w.acc))
		w.acc >>= 8
		w.nacc -= 8
	}
}

func (w *bitWriter) code(c uint64, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.bits(c>>uint(i)&1, 1)
	}
}

// fixedLit writes literal/length symbol v with the fixed Huffman code.
func (w *bitWriter) fixedLit(v int) {
	switch {
	case v < 144:
		w.code(uint64(0x30+v), 8)
	case v < 256:
		w.code(uint64(0x190+v-144), 9)
	case v < 280:
		w.code(uint64(v-256), 7)
	default:
		w.code(uint64(0xc0+v-280), 8)
	}
}

func (w *bitWriter) flush() []byte {
	if w.nacc > 0 {
		w.bits(0, 8-w.nacc)
	}
	return w.out
}

// op is one step of a hand-written stream: a literal, or a match
// (length, distance) spelled with its symbol and extra bits.
type op struct {
	lit            int // -1: a match
	lenSym         int
	lenExtra       uint64
	lenBits        uint
	distSym        int
	distExtra      uint64
	distBits       uint
	length, offset int // what the match means, for the expected output
}

// fixedStream writes ops as one final fixed-Huffman block and returns
// the stream and the output it decodes to.
func fixedStream(ops []op) (stream, want []byte) {
	var w bitWriter
	w.bits(1, 1) // BFINAL
	w.bits(1, 2) // BTYPE 01: fixed Huffman
	for _, o := range ops {
		if o.lit >= 0 {
			w.fixedLit(o.lit)
			want = append(want, byte(o.lit))
			continue
		}
		w.fixedLit(o.lenSym)
		w.bits(o.lenExtra, o.lenBits)
		w.code(uint64(o.distSym), 5)
		w.bits(o.distExtra, o.distBits)
		for i := 0; i < o.length && o.offset <= len(want); i++ { // else a bad stream: no output
			want = append(want, want[len(want)-o.offset])
		}
	}
	w.fixedLit(256)
	return w.flush(), want
}

func literals(r *rand.Rand, n int) []op {
	ops := make([]op, n)
	for i := range ops {
		ops[i] = op{lit: r.IntN(256)}
	}
	return ops
}

func decodeAll(t *testing.T, stream []byte, deflate64 bool) ([]byte, error) {
	t.Helper()
	return io.ReadAll(newReader(bytes.NewReader(stream), deflate64))
}

// TestDeflate64Differences decodes hand-written streams that use each of
// Deflate64's three differences: length code 285 with 16 extra bits,
// distance codes 30 and 31 with 14, and matches reaching past 32 KiB into
// the 64 KiB window. In DEFLATE mode the same streams are refused (codes
// 30 and 31) or mean length 258 (code 285).
func TestDeflate64Differences(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	tests := []struct {
		name string
		ops  []op
		// deflateErr: DEFLATE refuses the stream (codes 30, 31).
		deflateErr bool
	}{
		{"length code 285: 3 + 16 extra bits", append(literals(r, 3),
			op{lit: -1, lenSym: 285, lenExtra: 997, lenBits: 16, distSym: 2, length: 1000, offset: 3}), false},
		{"length code 285 at its maximum (65538)", append(literals(r, 5),
			op{lit: -1, lenSym: 285, lenExtra: 1<<16 - 1, lenBits: 16, distSym: 4, distExtra: 0, distBits: 1, length: 65538, offset: 5}), false},
		{"distance code 30: 32769 + 14 extra bits", append(literals(r, 40000),
			op{lit: -1, lenSym: 279, lenExtra: 1, lenBits: 4, distSym: 30, distExtra: 35000 - 32769, distBits: 14, length: 100, offset: 35000}), true},
		{"distance code 31: 49153 + 14 extra bits, to the window's end", append(literals(r, 65536),
			op{lit: -1, lenSym: 279, lenExtra: 1, lenBits: 4, distSym: 31, distExtra: 1<<14 - 1, distBits: 14, length: 100, offset: 65536},
			op{lit: -1, lenSym: 265, lenBits: 1, distSym: 31, distExtra: 847, distBits: 14, length: 11, offset: 50000}), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stream, want := fixedStream(tc.ops)
			got, err := decodeAll(t, stream, true)
			if err != nil {
				t.Fatalf("Deflate64: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("Deflate64: %d bytes, want %d (first difference at %d)", len(got), len(want), firstDiff(got, want))
			}
			_, err = decodeAll(t, stream, false)
			if tc.deflateErr && !errors.Is(err, ErrCorrupt) {
				t.Errorf("DEFLATE mode: %v, want a corrupt-input error for distance codes 30/31", err)
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// corpus is data with long and far repeats, text-like runs and noise.
func corpus(r *rand.Rand, n int) []byte {
	b := make([]byte, 0, n)
	words := []string{"IDNCASE", "\t", "NYC", "2019-03-04", "ADMIN_CLOSED", "\r\n", "0830", "M", "I"}
	for len(b) < n {
		switch r.IntN(4) {
		case 0:
			b = append(b, words[r.IntN(len(words))]...)
		case 1:
			if len(b) > 0 {
				from := r.IntN(len(b))
				b = append(b, b[from:min(len(b), from+r.IntN(300))]...)
			}
		case 2:
			for range r.IntN(50) {
				b = append(b, byte(r.IntN(256)))
			}
		default:
			b = append(b, bytes.Repeat([]byte{byte('a' + r.IntN(26))}, r.IntN(400))...)
		}
	}
	return b[:n]
}

// TestDeflateModeMatchesFlate: the decoder's DEFLATE mode (the same code
// with Deflate64's differences off) reads compress/flate's output at
// every level as compress/flate does.
func TestDeflateModeMatchesFlate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 1000, 300_000} {
		data := corpus(r, n)
		for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
			var buf bytes.Buffer
			w, _ := flate.NewWriter(&buf, level)
			w.Write(data)
			w.Close()
			got, err := decodeAll(t, buf.Bytes(), false)
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%d bytes, level %d: %d bytes back, %v", n, level, len(got), err)
			}
		}
	}
}

// TestCorrupt: damaged streams are errors, never a panic or a hang.
func TestCorrupt(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	good, _ := fixedStream(append(literals(r, 10), op{lit: -1, lenSym: 257, distSym: 0, length: 3, offset: 1}))
	far, _ := fixedStream(append(literals(r, 10), op{lit: -1, lenSym: 257, distSym: 8, distExtra: 0, distBits: 3, length: 3, offset: 17}))
	var w bitWriter
	w.bits(1, 1)
	w.bits(2, 2)   // dynamic Huffman
	w.bits(0, 5)   // 257 literal/length codes
	w.bits(0, 5)   // 1 distance code
	w.bits(15, 4)  // 19 code-length codes
	for range 19 { // every code-length code 1 bit long: over-subscribed
		w.bits(1, 3)
	}
	overSubscribed := w.flush()
	tests := []struct {
		name   string
		stream []byte
		want   error
	}{
		{"truncated", good[:len(good)/2], io.ErrUnexpectedEOF},
		{"empty", nil, io.ErrUnexpectedEOF},
		{"reserved block type", []byte{0x07}, ErrCorrupt},
		{"distance beyond the data so far", far, ErrCorrupt},
		{"over-subscribed Huffman table", overSubscribed, ErrCorrupt},
		{"stored block with a bad length check", []byte{0x01, 0x05, 0x00, 0x00, 0x00}, ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, d64 := range []bool{true, false} {
				_, err := decodeAll(t, tc.stream, d64)
				if !errors.Is(err, tc.want) {
					t.Errorf("deflate64=%v: %v, want %v", d64, err, tc.want)
				}
			}
		})
	}
}

// FuzzInflate: any input decodes or fails, without a panic and within a
// bounded output; in DEFLATE mode the decoder agrees with compress/flate
// on the bytes and on whether the stream is good.
func FuzzInflate(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, level := range []int{flate.BestSpeed, flate.BestCompression, flate.HuffmanOnly} {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, level)
		w.Write(corpus(r, 5000))
		w.Close()
		f.Add(buf.Bytes())
	}
	s, _ := fixedStream(append(literals(r, 40), op{lit: -1, lenSym: 285, lenExtra: 500, lenBits: 16, distSym: 5, distExtra: 1, distBits: 1, length: 503, offset: 8}))
	f.Add(s)
	f.Fuzz(func(t *testing.T, in []byte) {
		const limit = 4 << 20
		io.Copy(io.Discard, io.LimitReader(newReader(bytes.NewReader(in), true), limit))
		ours, errOurs := io.ReadAll(io.LimitReader(newReader(bytes.NewReader(in), false), limit))
		theirs, errTheirs := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(in)), limit))
		if (errOurs == nil) != (errTheirs == nil) || !bytes.Equal(ours, theirs) {
			t.Fatalf("DEFLATE mode: %d bytes, %v; compress/flate: %d bytes, %v", len(ours), errOurs, len(theirs), errTheirs)
		}
	})
}
