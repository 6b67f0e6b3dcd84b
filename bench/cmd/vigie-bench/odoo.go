package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// The agent scenario's load: an Odoo log file, as Odoo 16/17 writes it
// (%(asctime)s %(pid)s %(levelname)s %(dbname)s %(name)s: %(message)s
// %(perf_info)s), built from the record index alone like the syslog load.
//
// Most records are werkzeug access lines with Odoo's perf_info, 150 to 200
// bytes; some are other INFO lines of about the same size. Every
// odooTracebackEvery-th record is an ERROR line followed by
// odooTracebackLines traceback lines, which the reader must join to it.

const (
	odooTracebackEvery = 1000
	odooTracebackLines = 3
	// odooStartRegex is where a record starts (rsyslog's imfile startmsg.regex):
	// a date at the start of the line. Traceback lines never start that way.
	odooStartRegex = `^[0-9]{4}-[0-9]{2}-[0-9]{2} `
)

var (
	odooDBs      = []string{"Specibike", "specibike_prod", "cycles_martin", "odoo_compta"}
	odooPIDs     = []int{4711, 4712, 4713, 4714, 4720, 4721, 4722, 4723}
	odooRequests = []string{
		"POST /web/dataset/call_kw/sale.order/read",
		"POST /web/dataset/call_kw/account.move/search_read",
		"POST /web/dataset/call_kw/stock.picking/button_validate",
		"POST /web/dataset/call_kw/res.partner/name_search",
		"POST /web/dataset/call_kw/product.product/web_read",
		"POST /web/dataset/call_kw/mail.message/message_format",
		"GET /web/image/product.template/4711/image_128",
		"GET /web/content/ir.attachment/88231/datas",
		"POST /web/action/load",
		"POST /longpolling/poll",
		"POST /mail/init_messaging",
		"GET /web/webclient/translations/3f2c9a1b7d?lang=fr_FR",
		"POST /web/dataset/call_button",
		"GET /report/pdf/account.report_invoice/20211",
	}
	// odooStatuses: mostly 200.
	odooStatuses = []int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 304, 304, 404, 500}
	odooOther    = []string{
		"odoo.addons.base.models.ir_cron: Job 'Mail: Email Queue Manager' (3) done in %d.%03ds, next call planned",
		"odoo.models.unlink: User #%d deleted mail.message records with IDs: [991204, 991205, 991206, 991207, 991208, 991209]",
		"odoo.addons.mail.models.mail_mail: Mail with ID %d and Message-Id '<1732270000.%d-openerp-sale.order@erp1>' sent",
		"odoo.addons.stock.models.stock_rule: procurement for product [VELO-%04d] Vélo de ville 28 pouces scheduled",
	}
	monthAbbr = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
)

// odooGenerator produces the records of one Odoo log file.
type odooGenerator struct {
	seed  uint64
	start time.Time // stamp of record 0; record i is start + i ms
}

func newOdooGenerator(seed uint64, start time.Time) *odooGenerator {
	return &odooGenerator{seed: seed, start: start.UTC()}
}

// odooIsError tells whether record i is an ERROR line with a traceback.
func odooIsError(i int) bool { return i%odooTracebackEvery == odooTracebackEvery-1 }

// odooRecordLines is how many lines record i takes.
func odooRecordLines(i int) int {
	if odooIsError(i) {
		return 1 + odooTracebackLines
	}
	return 1
}

// appendOdooStamp appends Python's asctime, "2026-11-22 10:00:00,123".
func appendOdooStamp(b []byte, t time.Time) []byte {
	return t.AppendFormat(b, "2006-01-02 15:04:05,000")
}

// appendRecord appends record i, each line ending with LF. With short set,
// an error record is written as a plain INFO line (no traceback): for the
// end of a file that must hold an exact number of lines.
func (g *odooGenerator) appendRecord(b []byte, i int, short bool) []byte {
	h := splitmix(g.seed ^ (uint64(i) * 0xD1B54A32D192ED03))
	next := func() uint64 { h = splitmix(h); return h }
	t := g.start.Add(time.Duration(i) * time.Millisecond)
	pid := odooPIDs[next()%uint64(len(odooPIDs))]
	db := odooDBs[next()%uint64(len(odooDBs))]
	b = appendOdooStamp(b, t)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(pid), 10)
	if odooIsError(i) && !short {
		b = append(b, " ERROR "...)
		b = append(b, db...)
		b = append(b, " odoo.http: Exception during request handling ("...)
		b = append(b, odooRequests[next()%uint64(len(odooRequests))]...)
		b = append(b, ", uid "...)
		b = strconv.AppendInt(b, int64(2+next()%40), 10)
		b = append(b, ", from 10.0."...)
		b = strconv.AppendInt(b, int64(next()%256), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(next()%256), 10)
		b = append(b, ")\nTraceback (most recent call last):\n"...)
		b = append(b, `  File "/opt/odoo/odoo/http.py", line `...)
		b = strconv.AppendInt(b, int64(1500+next()%700), 10)
		b = append(b, ", in _serve_db\n"...)
		b = append(b, "psycopg2.errors.SerializationFailure: could not serialize access due to concurrent update\n"...)
		return b
	}
	b = append(b, " INFO "...)
	b = append(b, db...)
	if r := next(); r%20 == 0 {
		// One record in 20: another logger than werkzeug.
		f := odooOther[(r>>8)%uint64(len(odooOther))]
		a := int(next() % 10000)
		b = append(b, ' ')
		switch f {
		case odooOther[0]:
			b = fmt.Appendf(b, f, a%10, a%1000)
		case odooOther[2]:
			b = fmt.Appendf(b, f, a, a)
		default:
			b = fmt.Appendf(b, f, a)
		}
		b = append(b, " \n"...) // perf_info empty: a trailing space
		return b
	}
	b = append(b, " werkzeug: 10."...)
	r := next()
	b = strconv.AppendInt(b, int64(r&0xff), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64((r>>8)&0xff), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64((r>>16)&0xff), 10)
	b = append(b, " - - ["...)
	b = appendInt2(b, t.Day())
	b = append(b, '/')
	b = append(b, monthAbbr[t.Month()-1]...)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(t.Year()), 10)
	b = append(b, ' ')
	b = appendInt2(b, t.Hour())
	b = append(b, ':')
	b = appendInt2(b, t.Minute())
	b = append(b, ':')
	b = appendInt2(b, t.Second())
	b = append(b, `] "`...)
	b = append(b, odooRequests[next()%uint64(len(odooRequests))]...)
	b = append(b, ` HTTP/1.1" `...)
	b = strconv.AppendInt(b, int64(odooStatuses[next()%uint64(len(odooStatuses))]), 10)
	b = append(b, " - "...)
	// perf_info: query count, query time, remaining time (seconds).
	b = strconv.AppendInt(b, int64(next()%200), 10)
	b = append(b, ' ')
	b = appendSeconds(b, next()%3000)
	b = append(b, ' ')
	b = appendSeconds(b, next()%5000)
	return append(b, '\n')
}

func appendInt2(b []byte, v int) []byte {
	return append(b, byte('0'+v/10%10), byte('0'+v%10))
}

// appendSeconds appends ms milliseconds as seconds with 3 decimals.
func appendSeconds(b []byte, ms uint64) []byte {
	b = strconv.AppendUint(b, ms/1000, 10)
	b = append(b, '.')
	return append(b, byte('0'+ms/100%10), byte('0'+ms/10%10), byte('0'+ms%10))
}

// odooFile is what writeOdooLog wrote.
type odooFile struct {
	Path       string `json:"path"`
	Lines      int    `json:"lines"`
	Records    int    `json:"records"`
	Tracebacks int    `json:"tracebacks"`
	Bytes      int64  `json:"bytes"`
}

// writeOdooLog writes records to w until exactly lines lines are written.
// The records are lines minus odooTracebackLines per traceback.
func writeOdooLog(w io.Writer, g *odooGenerator, lines int) (odooFile, error) {
	var f odooFile
	bw := bufio.NewWriterSize(w, 1<<20)
	buf := make([]byte, 0, 1024)
	for i := 0; f.Lines < lines; i++ {
		short := f.Lines+odooRecordLines(i) > lines
		buf = g.appendRecord(buf[:0], i, short)
		if odooIsError(i) && !short {
			f.Lines += 1 + odooTracebackLines
			f.Tracebacks++
		} else {
			f.Lines++
		}
		f.Records++
		f.Bytes += int64(len(buf))
		if _, err := bw.Write(buf); err != nil {
			return f, err
		}
	}
	return f, bw.Flush()
}

// createOdooLog writes the file path of lines lines.
func createOdooLog(path string, g *odooGenerator, lines int) (odooFile, error) {
	out, err := os.Create(path)
	if err != nil {
		return odooFile{}, err
	}
	f, err := writeOdooLog(out, g, lines)
	f.Path = path
	if err2 := out.Close(); err == nil {
		err = err2
	}
	return f, err
}
