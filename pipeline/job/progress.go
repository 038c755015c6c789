package job

import (
	"sync/atomic"
)

// Progress is a run's work so far, updated while it runs: the command
// line's terminal display and the run's metrics read it. A nil *Progress
// records nothing; the zero value is ready to use. It holds counts only,
// never a value from a row.
type Progress struct {
	stage          atomic.Pointer[string]
	objects        atomic.Int64
	objectsRead    atomic.Int64
	rowsRead       atomic.Int64
	bytesRead      atomic.Int64
	courts         atomic.Int64
	courtsDone     atomic.Int64
	objectsWritten atomic.Int64
	bytesWritten   atomic.Int64
}

// ProgressSnapshot is a Progress at one moment.
type ProgressSnapshot struct {
	Stage string
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
func (p *Progress) Snapshot() ProgressSnapshot {
	if p == nil {
		return ProgressSnapshot{}
	}
	s := ProgressSnapshot{
		Objects: p.objects.Load(), ObjectsRead: p.objectsRead.Load(), RowsRead: p.rowsRead.Load(), BytesRead: p.bytesRead.Load(),
		Courts: p.courts.Load(), CourtsScheduled: p.courtsDone.Load(),
		ObjectsWritten: p.objectsWritten.Load(), BytesWritten: p.bytesWritten.Load(),
	}
	if st := p.stage.Load(); st != nil {
		s.Stage = *st
	}
	return s
}

func (p *Progress) setStage(s string) {
	if p != nil {
		p.stage.Store(&s)
	}
}

func (p *Progress) startRead(objects int) {
	if p != nil {
		p.objects.Store(int64(objects))
	}
}

func (p *Progress) readRows(n int) {
	if p != nil {
		p.rowsRead.Add(int64(n))
	}
}

func (p *Progress) readObject(bytes int64) {
	if p != nil {
		p.objectsRead.Add(1)
		p.bytesRead.Add(bytes)
	}
}

func (p *Progress) startSchedule(courts int) {
	if p != nil {
		p.courts.Store(int64(courts))
	}
}

func (p *Progress) scheduledCourt() {
	if p != nil {
		p.courtsDone.Add(1)
	}
}

func (p *Progress) wrote(objects int, bytes int64) {
	if p != nil {
		p.objectsWritten.Add(int64(objects))
		p.bytesWritten.Add(bytes)
	}
}
