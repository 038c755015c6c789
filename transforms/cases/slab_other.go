//go:build !linux

package cases

// NewSlab returns a zeroed slice of n case records and a function to call
// when it is no longer used (a no-op here; see the Linux version).
func NewSlab(n int) (s []Case, free func()) {
	return make([]Case, n), func() {}
}
