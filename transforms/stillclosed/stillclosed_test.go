package stillclosed

import "testing"

func TestStillClosed(t *testing.T) {
	type proc struct {
		id      int64
		comp    string
		date    int32
		hasDate bool
	}
	type motion struct {
		recType, dec string
		day          int32
		hasDay       bool
	}
	for _, c := range []struct {
		name     string
		procs    []proc
		settings []int32
		motions  []motion
		still    bool
		why      string
		motion   *motion
	}{
		{name: "closed", procs: []proc{{1, "A", 100, true}}, still: true},
		{name: "each closure code", procs: []proc{{1, "M", 100, true}}, still: true},
		{name: "not a closure code", procs: []proc{{1, "C", 100, true}}},
		{name: "no completion date", procs: []proc{{1, "Y", 0, false}}},
		{name: "a later proceeding", procs: []proc{{1, "A", 100, true}, {2, "", 0, false}}},
		{name: "the latest read first", procs: []proc{{2, "K", 100, true}, {1, "", 0, false}}, still: true},
		{name: "a hearing after", procs: []proc{{1, "A", 100, true}}, settings: []int32{101}, why: "HEARING_SET_AFTER_CLOSURE"},
		{name: "a hearing on the day or before", procs: []proc{{1, "A", 100, true}}, settings: []int32{100, 50}, still: true},
		{name: "granted after", procs: []proc{{1, "A", 100, true}}, motions: []motion{{"C", "G", 120, true}}, why: "RECALENDAR_MOTION_GRANTED"},
		{name: "CL granted after", procs: []proc{{1, "A", 100, true}}, motions: []motion{{"CL", "G", 100, true}}, why: "RECALENDAR_MOTION_GRANTED"},
		{name: "granted before", procs: []proc{{1, "A", 100, true}}, motions: []motion{{"C", "G", 99, true}}, still: true},
		{name: "another motion type granted", procs: []proc{{1, "A", 100, true}}, motions: []motion{{"AC", "G", 120, true}}, still: true},
		{name: "denied, then pending: the latest kept", procs: []proc{{1, "A", 100, true}},
			motions: []motion{{"C", "D", 110, true}, {"CL", "", 130, true}, {"C", "D", 120, true}}, still: true, motion: &motion{"", "", 130, true}},
		{name: "a motion without a date", procs: []proc{{1, "A", 100, true}}, motions: []motion{{"C", "G", 0, false}}, still: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var k Case
			for _, p := range c.procs {
				k.AddProceeding(p.id, p.comp, p.date, p.hasDate)
			}
			for _, d := range c.settings {
				k.Setting(d)
			}
			for _, m := range c.motions {
				k.Motion(m.recType, m.dec, m.day, m.hasDay)
			}
			if k.StillClosed() != c.still || k.Why != c.why {
				t.Fatalf("still closed %v (%q), want %v (%q)", k.StillClosed(), k.Why, c.still, c.why)
			}
			if c.motion != nil && (!k.HasMotion || k.MotionDate != c.motion.day || k.MotionDec != c.motion.dec) {
				t.Fatalf("motion %v %d %q, want %d %q", k.HasMotion, k.MotionDate, k.MotionDec, c.motion.day, c.motion.dec)
			}
			if c.motion == nil && k.HasMotion && c.still && len(c.motions) > 0 && c.name != "another motion type granted" {
				t.Fatalf("unexpected motion %d %q", k.MotionDate, k.MotionDec)
			}
		})
	}
}

func TestCurrentCustody(t *testing.T) {
	for _, c := range []struct {
		custody  string
		released bool
		want     string
	}{
		{"D", false, "D"},
		{"D", true, "R"},
		{"R", true, "R"},
		{"R", false, "R"},
		{"N", false, "N"},
		{"Q", false, ""},
		{"", true, ""},
	} {
		if got := CurrentCustody(c.custody, c.released); got != c.want {
			t.Errorf("CurrentCustody(%q, %v) = %q, want %q", c.custody, c.released, got, c.want)
		}
	}
}
