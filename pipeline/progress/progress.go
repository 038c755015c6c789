// Package progress holds a run's work so far, as atomic counts.
package progress

import (
	"sync/atomic"
)

// Progress is a run's work so far, updated while it runs: the command
// line's terminal display and the run's metrics read it. A nil *Progress
// records nothing; the zero value is ready to use. It holds counts only,
// never a value from a row.
type Progress struct {
	stage          atomic.Pointer[string]
	unit           atomic.Pointer[string]
	objects        atomic.Int64
	objectsRead    atomic.Int64
	rowsRead       atomic.Int64
	bytesRead      atomic.Int64
	courts         atomic.Int64
	courtsDone     atomic.Int64
	objectsWritten atomic.Int64
	bytesWritten   atomic.Int64
}

// Snapshot is a Progress at one moment.
type Snapshot struct {
	Stage string
	// Unit names what Objects counts ("" for export objects; "tables" for
	// the tables an import reads).
	Unit string
	// Objects is the number of export objects; ObjectsRead of them are
	// read, holding RowsRead rows (every row, owned by this shard or not)
	// and BytesRead bytes.
	Objects, ObjectsRead, RowsRead, BytesRead int64
	// Courts is the number of courts with cases to schedule;
	// CourtsScheduled of them are done.
	Courts, CourtsScheduled int64
	// ObjectsWritten and BytesWritten count the output objects written.
	ObjectsWritten, BytesWritten int64
}

// Snapshot returns the counts now.
func (p *Progress) Snapshot() Snapshot {
	if p == nil {
		return Snapshot{}
	}
	s := Snapshot{
		Objects: p.objects.Load(), ObjectsRead: p.objectsRead.Load(), RowsRead: p.rowsRead.Load(), BytesRead: p.bytesRead.Load(),
		Courts: p.courts.Load(), CourtsScheduled: p.courtsDone.Load(),
		ObjectsWritten: p.objectsWritten.Load(), BytesWritten: p.bytesWritten.Load(),
	}
	if st := p.stage.Load(); st != nil {
		s.Stage = *st
	}
	if u := p.unit.Load(); u != nil {
		s.Unit = *u
	}
	return s
}

// SetStage records the stage the run is in.
func (p *Progress) SetStage(s string) {
	if p != nil {
		p.stage.Store(&s)
	}
}

// SetUnit names what StartRead counts, for the display ("tables").
func (p *Progress) SetUnit(u string) {
	if p != nil {
		p.unit.Store(&u)
	}
}

// ReadBytes adds n bytes read from storage (as stored: compressed ones
// for a zip's members).
func (p *Progress) ReadBytes(n int64) {
	if p != nil {
		p.bytesRead.Add(n)
	}
}

// DoneObject counts one object (or table) read, its bytes counted by
// ReadBytes.
func (p *Progress) DoneObject() {
	if p != nil {
		p.objectsRead.Add(1)
	}
}

// StartRead records the number of export objects to read.
func (p *Progress) StartRead(objects int) {
	if p != nil {
		p.objects.Store(int64(objects))
	}
}

// ReadRows adds n rows read.
func (p *Progress) ReadRows(n int) {
	if p != nil {
		p.rowsRead.Add(int64(n))
	}
}

// ReadObject counts one object read, of bytes bytes.
func (p *Progress) ReadObject(bytes int64) {
	if p != nil {
		p.objectsRead.Add(1)
		p.bytesRead.Add(bytes)
	}
}

// StartSchedule records the number of courts to schedule.
func (p *Progress) StartSchedule(courts int) {
	if p != nil {
		p.courts.Store(int64(courts))
	}
}

// ScheduledCourt counts one court scheduled.
func (p *Progress) ScheduledCourt() {
	if p != nil {
		p.courtsDone.Add(1)
	}
}

// Wrote adds output objects written and their bytes.
func (p *Progress) Wrote(objects int, bytes int64) {
	if p != nil {
		p.objectsWritten.Add(int64(objects))
		p.bytesWritten.Add(bytes)
	}
}
