package registry

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// ICSProductID is the PRODID of the iCalendar relreg writes.
const ICSProductID = "-//relreg//relreg//EN"

// icsTime is the RFC 5545 form of a UTC DATE-TIME.
const icsTime = "20060102T150405Z"

// icsLineOctets is the longest a content line may be, without its CRLF
// (RFC 5545 section 3.1).
const icsLineOctets = 75

// WriteICS writes the forward schedule to w as an RFC 5545 iCalendar: one
// VEVENT per release window and one per freeze (a period with neither gets
// a VTIMEZONE for UTC, since a calendar holds at least one component).
// stamp is every event's DTSTAMP; pass a fixed time for reproducible
// output.
//
// UIDs are stable across runs and edits: release/<service>@<version> and
// freeze/<schedule>/<name>, followed by @relreg, or by @<registry>.relreg
// when the registry has a name, so that calendars subscribed to two
// registries keep their events apart.
func (f *ForwardSchedule) WriteICS(w io.Writer, stamp time.Time) error {
	iw := &icsWriter{w: bufio.NewWriter(w)}
	dtstamp := stamp.UTC().Format(icsTime)
	host := "relreg"
	if f.Registry != "" {
		host = f.Registry + ".relreg"
	}
	iw.line("BEGIN", "VCALENDAR")
	iw.line("VERSION", "2.0")
	iw.line("PRODID", ICSProductID)
	iw.line("CALSCALE", "GREGORIAN")
	iw.line("METHOD", "PUBLISH")
	name := "Forward schedule of change"
	if f.Registry != "" {
		name = f.Registry + ": " + name
	}
	iw.line("X-WR-CALNAME", icsText(name))

	for _, r := range f.Releases {
		status := "CONFIRMED"
		if r.Phase == PhaseDraft || r.Phase == PhasePlanned || PhaseRank(r.Phase) < 0 {
			status = "TENTATIVE"
		}
		desc := fmt.Sprintf("Type: %s\nRisk: %s\nPhase: %s\nOwner: %s\nSchedule: %s\nEnvironment: %s",
			r.Type, r.Risk, r.Phase, r.Owner, r.Schedule, r.Environment)
		iw.line("BEGIN", "VEVENT")
		iw.line("UID", icsText(r.Subject()+"@"+host))
		iw.line("DTSTAMP", dtstamp)
		iw.line("DTSTART", r.Start.UTC().Format(icsTime))
		iw.line("DTEND", r.End.UTC().Format(icsTime))
		iw.line("SUMMARY", icsText(r.Service+" "+r.Version+": "+r.Title))
		iw.line("DESCRIPTION", icsText(desc))
		if r.Environment != "" {
			iw.line("LOCATION", icsText(r.Environment))
		}
		iw.line("CATEGORIES", icsText(r.Phase))
		iw.line("STATUS", status)
		iw.line("END", "VEVENT")
	}

	for _, fr := range f.Freezes {
		uid := "freeze/" + fr.Schedule + "/" + fr.Name
		if fr.repeated {
			// A later freeze of a name already used in the schedule: tell
			// it apart by its position in spec.freezes, whichever freezes
			// the period shows.
			uid = fmt.Sprintf("%s/%d", uid, fr.index)
		}
		allow := "no release type"
		if len(fr.Allow) > 0 {
			allow = strings.Join(fr.Allow, ", ")
		}
		desc := fmt.Sprintf("Change freeze of schedule %s\nEnvironment: %s\nExempt: %s", fr.Schedule, fr.Environment, allow)
		iw.line("BEGIN", "VEVENT")
		iw.line("UID", icsText(uid+"@"+host))
		iw.line("DTSTAMP", dtstamp)
		iw.line("DTSTART", fr.Start.UTC().Format(icsTime))
		iw.line("DTEND", fr.End.UTC().Format(icsTime))
		iw.line("SUMMARY", icsText("Freeze "+fr.Name+" ("+fr.Schedule+")"))
		iw.line("DESCRIPTION", icsText(desc))
		if fr.Environment != "" {
			iw.line("LOCATION", icsText(fr.Environment))
		}
		iw.line("CATEGORIES", "FREEZE")
		iw.line("TRANSP", "OPAQUE")
		iw.line("END", "VEVENT")
	}
	if len(f.Releases) == 0 && len(f.Freezes) == 0 {
		// RFC 5545 wants at least one component in a calendar: a period
		// with nothing in it gets the definition of UTC, which every time
		// here is in, rather than an invalid calendar.
		for _, l := range [][2]string{{"BEGIN", "VTIMEZONE"}, {"TZID", "UTC"}, {"BEGIN", "STANDARD"}, {"DTSTART", "19700101T000000"},
			{"TZOFFSETFROM", "+0000"}, {"TZOFFSETTO", "+0000"}, {"TZNAME", "UTC"}, {"END", "STANDARD"}, {"END", "VTIMEZONE"}} {
			iw.line(l[0], l[1])
		}
	}
	iw.line("END", "VCALENDAR")
	if iw.err != nil {
		return iw.err
	}
	return iw.w.Flush()
}

// icsWriter writes content lines, folded and CRLF-terminated, and keeps
// the first error.
type icsWriter struct {
	w   *bufio.Writer
	err error
}

// line writes NAME:value; value must already be escaped.
func (iw *icsWriter) line(name, value string) {
	if iw.err != nil {
		return
	}
	_, iw.err = iw.w.WriteString(foldICS(name + ":" + value))
}

// foldICS folds a content line into lines of at most 75 octets, each
// continuation starting with a space, never splitting a UTF-8 character,
// and terminates every line with CRLF (RFC 5545 section 3.1).
func foldICS(s string) string {
	var b strings.Builder
	limit := icsLineOctets
	for len(s) > limit {
		cut := limit
		// Back up to the start of a character.
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		b.WriteString(s[:cut])
		b.WriteString("\r\n ")
		s = s[cut:]
		limit = icsLineOctets - 1 // the leading space counts
	}
	b.WriteString(s)
	b.WriteString("\r\n")
	return b.String()
}

// icsText escapes a TEXT value (RFC 5545 section 3.3.11): backslash,
// semicolon, comma and newline. A CR or CRLF is a newline; other control
// characters, which TEXT may not hold, become spaces.
func icsText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == ';':
			b.WriteString(`\;`)
		case r == ',':
			b.WriteString(`\,`)
		case r == '\n' || r == '\r':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
