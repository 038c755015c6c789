package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/recal-project/recal/pipeline/progress"
	"github.com/recal-project/recal/pipeline/report"
)

// isTerminal reports whether w is a character device (a person watching).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// display is the terminal's progress line: objects and rows read, courts
// scheduled, bytes written, redrawn in place a few times a second. It is
// also the log's writer, so that a log line never lands in the middle of
// the progress line: the line is cleared, the log line written, and the
// line drawn again.
type display struct {
	mu    sync.Mutex
	w     io.Writer
	prog  *progress.Progress
	shown bool
	stop  chan struct{}
	done  chan struct{}
	start time.Time
}

// newDisplay starts redrawing prog's line on w every interval.
func newDisplay(w io.Writer, prog *progress.Progress, interval time.Duration) *display {
	d := &display{w: w, prog: prog, stop: make(chan struct{}), done: make(chan struct{}), start: time.Now()}
	go func() {
		defer close(d.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-d.stop:
				return
			case <-t.C:
				d.mu.Lock()
				d.draw()
				d.mu.Unlock()
			}
		}
	}()
	return d
}

// Close stops the redrawing and clears the line.
func (d *display) Close() {
	close(d.stop)
	<-d.done
	d.mu.Lock()
	d.clear()
	d.mu.Unlock()
}

// Write writes a log line above the progress line.
func (d *display) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clear()
	n, err := d.w.Write(p)
	d.draw()
	return n, err
}

func (d *display) clear() {
	if d.shown {
		io.WriteString(d.w, "\r\033[K")
		d.shown = false
	}
}

func (d *display) draw() {
	line := progressLine(d.prog.Snapshot(), time.Since(d.start))
	if line == "" {
		return
	}
	io.WriteString(d.w, "\r\033[K"+line)
	d.shown = true
}

// progressLine renders a snapshot (empty before the run has a stage).
func progressLine(s progress.Snapshot, elapsed time.Duration) string {
	if s.Stage == "" {
		return ""
	}
	parts := []string{fmt.Sprintf("recal %s %s", s.Stage, elapsed.Round(time.Second))}
	if s.Objects > 0 {
		unit := s.Unit
		if unit == "" {
			unit = "objects"
		}
		parts = append(parts, fmt.Sprintf("read %d/%d %s, %s rows, %s", s.ObjectsRead, s.Objects, unit, report.Commas(s.RowsRead), size(s.BytesRead)))
	}
	if s.Courts > 0 {
		parts = append(parts, fmt.Sprintf("scheduled %d/%d courts", s.CourtsScheduled, s.Courts))
	}
	if s.ObjectsWritten > 0 {
		parts = append(parts, fmt.Sprintf("wrote %d objects, %s", s.ObjectsWritten, size(s.BytesWritten)))
	}
	return strings.Join(parts, " · ")
}

// size renders a byte count in binary units.
func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
