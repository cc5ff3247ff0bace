package boss

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/semaphore"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"settle/connectors/dialect"
)

// result is the outcome of one attempt.
type result struct {
	raw           int64 // bytes received
	err           error // nil on success
	retry         bool  // err is transient
	retryAfter    time.Duration
	hasRetryAfter bool
}

// budget is the bytes of bodies being received at once, shared by every worker
// (Config.MaxInFlightBytes): shares of MaxPullBytes each, each share a buffer of the
// limit and a chunk's slack. A body takes a share once it passes smallBody bytes, is read
// into its buffer to the end and holds it until its attempt ends; a delivered body is
// copied out to its own size. A worker that holds a share never waits for more and one
// that waits holds none, so waiting cannot deadlock; and a hostile body leaves no garbage
// behind (its buffer goes to the next one), so the shares are all the memory big bodies
// take, however many come.
type budget struct {
	sem        *semaphore.Weighted // of shares
	share      int64               // bytes a share stands for: MaxPullBytes
	bufSize    int                 // a share's buffer: MaxPullBytes and outSlack
	held, peak atomic.Int64        // bytes held now and at most (for the tests and the benchmark)

	mu   sync.Mutex
	free [][]byte // buffers of released shares, for the next
}

func newBudget(inFlight, share int64) *budget {
	return &budget{
		sem:     semaphore.NewWeighted(max(inFlight/share, 1)),
		share:   share,
		bufSize: int(share) + outSlack,
	}
}

// acquire waits for a share and returns its buffer, empty.
func (b *budget) acquire(ctx context.Context) ([]byte, error) {
	if err := b.sem.Acquire(ctx, 1); err != nil {
		return nil, err
	}
	held := b.held.Add(b.share)
	for {
		p := b.peak.Load()
		if held <= p || b.peak.CompareAndSwap(p, held) {
			break
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := len(b.free); n > 0 {
		buf := b.free[n-1]
		b.free = b.free[:n-1]
		return buf[:0], nil
	}
	return make([]byte, 0, b.bufSize), nil
}

// release gives a share and its buffer back.
func (b *budget) release(buf []byte) {
	b.mu.Lock()
	b.free = append(b.free, buf[:0])
	b.mu.Unlock()
	b.held.Add(-b.share)
	b.sem.Release(1)
}

// drop lets the buffers of released shares go (at the end of a Fetch).
func (b *budget) drop() {
	b.mu.Lock()
	b.free = nil
	b.mu.Unlock()
}

// worker holds one goroutine's reusable buffers.
type worker struct {
	in  []byte // a chunk of the body as received
	out []byte // the decoded body of the current attempt, in the arena's free tail
	// share is the buffer of the budget's share this attempt holds, or nil.
	share []byte
	dec   transform.Transformer
	// arena is a block that kept bodies are carved out of: bodies are small and many, so
	// one block holds hundreds of them, each decoded in place, without a copy.
	arena []byte
	// stream: bodies are kept elsewhere as they arrive (a connectors.Keeper) and each
	// body is decoded into own, reused from one body to the next, instead of the arena.
	stream bool
	own    []byte
}

const (
	chunkSize = 32 << 10
	arenaSize = 1 << 20
	// minRoom is the free tail a body starts in; a body that outgrows it moves out.
	minRoom = 64 << 10
	// smallBody is what a body may take without a share of the budget: nearly every
	// report is far smaller.
	smallBody = minRoom
	// outSlack is how far a share's buffer passes the limit. read checks the body against
	// the limit once per chunk, so a body under it may take one chunk more; decoding GBK,
	// transform asks for room for 3 bytes of UTF-8 per byte left of the chunk before it
	// writes them. 3 chunks and a little cover both, so a body never leaves its buffer.
	outSlack = 3*chunkSize + 1<<10
)

func newWorker() *worker {
	return &worker{in: make([]byte, chunkSize), dec: simplifiedchinese.GB18030.NewDecoder()}
}

// begin starts a body in the free tail of the arena, or in own when streaming.
func (w *worker) begin() {
	if w.stream {
		if w.own == nil {
			w.own = make([]byte, 0, minRoom)
		}
		w.out = w.own[:0]
		return
	}
	if cap(w.arena)-len(w.arena) < minRoom {
		w.arena = make([]byte, 0, arenaSize)
	}
	w.out = w.arena[len(w.arena):len(w.arena)]
}

// keep returns the current body for good: the arena moves past it, or, when the body
// outgrew the arena's free tail, it keeps the array it moved to. Nothing writes to a kept
// body again (the next body begins after it, and its capacity ends where it does), so it
// can be handed out as it is (connectors.Bytes).
func (w *worker) keep() []byte {
	n := len(w.out)
	b := w.out[:n:n]
	if n > 0 && len(w.arena) < cap(w.arena) && &w.arena[:len(w.arena)+1][len(w.arena)] == &w.out[0] {
		w.arena = w.arena[:len(w.arena)+n]
	}
	w.out = nil
	return b
}

// reuse drops the current body, which was kept elsewhere, keeping its buffer for the next
// when it is no larger than a small body needs (a big body's was a copy out of a share).
func (w *worker) reuse() {
	if cap(w.out) <= smallBody+outSlack {
		w.own = w.out[:0]
	}
	w.out = nil
}

// grow makes room for at least need more bytes in w.out. A body in a share's buffer
// never needs to: read stops it within the buffer.
func (w *worker) grow(need int) {
	if cap(w.out)-len(w.out) >= need {
		return
	}
	grown := make([]byte, len(w.out), max(2*len(w.out)+need, 16<<10))
	copy(grown, w.out)
	w.out = grown
}

// get performs one attempt of GET rawURL and leaves the decoded body in w.out. With
// footer set, a body whose last non-blank line is not a 合计/TOTAL footer
// (dialect.IsFooterCell) counts as cut short.
func (s *Source) get(ctx context.Context, rawURL string, w *worker, footer bool) result {
	w.begin()
	actx, cancel := context.WithTimeout(ctx, s.cfg.PullTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, rawURL, nil)
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("Accept", "text/csv")
	req.Header.Set("User-Agent", "settle")
	if s.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return s.transportFailure(ctx, actx, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Read a little of the answer so the connection can be kept.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return s.statusFailure(resp)
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && !strings.EqualFold(ce, "identity") {
		// net/http takes off one gzip itself (resp.Uncompressed) and removes the header;
		// whatever is left is not text we can read, and the next try would be the same.
		return result{err: fmt.Errorf("Content-Encoding %q not supported", ce)}
	}
	defer w.release(s.budget)
	raw, err := w.read(actx, resp, s.cfg.MaxPullBytes, s.budget)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return result{raw: raw, err: err}
		}
		f := s.transportFailure(ctx, actx, err)
		f.raw = raw
		return f
	}
	if resp.ContentLength >= 0 && raw != resp.ContentLength {
		return result{raw: raw, retry: true,
			err: fmt.Errorf("body cut short: %d of %d bytes", raw, resp.ContentLength)}
	}
	if footer && !hasFooter(w.out) {
		return result{raw: raw, retry: true, err: errors.New("body cut short: its last line is not a 合计 footer")}
	}
	if w.share != nil {
		w.out = bytes.Clone(w.out) // the share's buffer goes back to the budget
	}
	return result{raw: raw}
}

var errTooLarge = errors.New("body over the limit")

// release gives back the attempt's share of the budget, if it took one; a body left in
// it (a failed attempt's) is dropped.
func (w *worker) release(b *budget) {
	if w.share == nil {
		return
	}
	if cap(w.out) > 0 && cap(w.out) == cap(w.share) && &w.out[:1][0] == &w.share[:1][0] {
		w.out = nil
	}
	b.release(w.share)
	w.share = nil
}

// read streams the body into w.out, decoding GBK as it comes when the Content-Type says
// so, and returns the number of bytes received (after decompression). It stops, with
// errTooLarge, as soon as more than limit bytes came or their decoded text passed limit,
// and takes its share of b before the body passes smallBody bytes.
func (w *worker) read(ctx context.Context, resp *http.Response, limit int64, b *budget) (int64, error) {
	gbk := isGBK(resp.Header.Get("Content-Type"))
	if gbk {
		w.dec.Reset()
	}
	var raw int64
	pending := 0 // undecoded bytes at the start of w.in
	for {
		n, rerr := resp.Body.Read(w.in[pending:])
		raw += int64(n)
		if raw > limit {
			return raw, fmt.Errorf("%w of %s (--max-pull-bytes) after decompression; not read further", errTooLarge, size(limit))
		}
		eof := rerr == io.EOF
		if rerr != nil && !eof {
			return raw, rerr
		}
		src := w.in[:pending+n]
		if w.share == nil && len(w.out)+3*len(src)/2+64 > smallBody {
			buf, err := b.acquire(ctx)
			if err != nil {
				return raw, err
			}
			w.share = buf
			w.out = append(buf, w.out...)
		}
		if !gbk {
			w.out = append(w.out, src...)
			pending = 0
		} else {
			var err error
			if src, err = w.decode(src, eof); err != nil {
				return raw, err
			}
			pending = copy(w.in, src)
			if int64(len(w.out)) > limit {
				return raw, fmt.Errorf("%w of %s (--max-pull-bytes) once decoded from GBK; not read further", errTooLarge, size(limit))
			}
		}
		if eof {
			return raw, nil
		}
	}
}

// size shows a number of bytes: in KiB or MiB when it is a whole number of them.
func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// decode decodes as much of src as it can into w.out and returns what is left (the start
// of a character cut by the chunk's end). BOSS reports are mostly ASCII, which GBK shares:
// ASCII runs are copied as they are, and only the stretches between them go through the
// decoder. A stretch starts at a byte ≥ 0x80 and ends before the next byte < 0x30, which
// no GBK or GB18030 sequence holds, so no character is ever cut (package dialect decodes
// files the same way).
func (w *worker) decode(src []byte, eof bool) ([]byte, error) {
	for len(src) > 0 {
		i := 0
		for i < len(src) && src[i] < utf8.RuneSelf {
			i++
		}
		w.out = append(w.out, src[:i]...)
		src = src[i:]
		if len(src) == 0 {
			break
		}
		j := 1
		for j < len(src) && src[j] >= 0x30 {
			j++
		}
		// Only a stretch that reaches the end of the chunk may end inside a character.
		final := j < len(src) || eof
		n, err := w.transform(src[:j], final)
		if err != nil {
			return src, err
		}
		src = src[n:]
		if n < j {
			return src, nil // the start of a character: wait for the next chunk
		}
	}
	return src, nil
}

// transform decodes src (or all but an unfinished character at its end when !final)
// into w.out and returns the bytes consumed.
func (w *worker) transform(src []byte, final bool) (int, error) {
	done := 0
	for {
		w.grow(64)
		nDst, nSrc, err := w.dec.Transform(w.out[len(w.out):cap(w.out)], src[done:], final)
		w.out = w.out[:len(w.out)+nDst]
		done += nSrc
		switch {
		case err == nil:
			return done, nil
		case errors.Is(err, transform.ErrShortSrc) && !final:
			return done, nil
		case errors.Is(err, transform.ErrShortDst):
			w.grow(3*(len(src)-done) + 16) // a GBK byte never takes more than 3 bytes of UTF-8
		default:
			return done, fmt.Errorf("decode GBK: %w", err)
		}
	}
}

// isGBK reports whether a Content-Type names a GBK-family charset.
func isGBK(contentType string) bool {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch strings.ToLower(params["charset"]) {
	case "gbk", "gb2312", "gb18030", "cp936", "x-gbk", "windows-936":
		return true
	}
	return false
}

// hasFooter reports whether the last non-blank line of b is a footer: its first cell is
// 合计 or TOTAL, as package dialect reads a footer (dialect.IsFooterCell). A line that is
// not UTF-8 is read as GBK, as package dialect would.
func hasFooter(b []byte) bool {
	end := len(b)
	for end > 0 {
		i := bytes.LastIndexByte(b[:end], '\n')
		line := b[i+1 : end]
		end = max(i, 0)
		if len(bytes.Trim(line, " \t\r,\"\u3000\ufeff")) == 0 {
			if i < 0 {
				return false
			}
			continue
		}
		if !utf8.Valid(line) {
			// No charset said GBK, and this is not UTF-8: the dialect will take it for GBK.
			if dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(line); err == nil {
				line = dec
			}
		}
		first, _, _ := bytes.Cut(line, []byte(","))
		first = bytes.TrimSpace(bytes.TrimPrefix(bytes.TrimSpace(first), []byte("\ufeff")))
		first = bytes.TrimSpace(bytes.Trim(first, "\""))
		return dialect.IsFooterCell(string(first))
	}
	return false
}

// transportFailure classifies an error of the request or of reading the body: every one
// is transient but a bad certificate (trying again would not help) and the end of ctx.
func (s *Source) transportFailure(ctx, actx context.Context, err error) result {
	if ctx.Err() != nil {
		return result{err: context.Cause(ctx)}
	}
	if actx.Err() != nil {
		return result{retry: true, err: fmt.Errorf("no whole answer within %v", s.cfg.PullTimeout)}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is named by the caller, without secrets
	}
	var redirect *redirectError
	if errors.As(err, &redirect) {
		return result{err: err} // the next try would be sent to the same place
	}
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	var host x509.HostnameError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &host) || errors.As(err, &verify) {
		return result{err: err}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return result{retry: true, err: errors.New("body cut short: the connection closed before its Content-Length")}
	}
	return result{retry: true, err: err}
}

// statusFailure classifies an answer other than 200.
func (s *Source) statusFailure(resp *http.Response) result {
	code := resp.StatusCode
	r := result{err: fmt.Errorf("%d %s", code, http.StatusText(code))}
	switch {
	case code == http.StatusTooManyRequests, code >= 500, code == http.StatusRequestTimeout:
		r.retry = true
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), s.now()); ok && (code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable) {
			r.retryAfter, r.hasRetryAfter = d, true
		}
	case code == http.StatusUnauthorized:
		r.err = fmt.Errorf("%w (is SETTLE_BOSS_TOKEN right?)", r.err)
	}
	return r
}

// retryAfter parses a Retry-After header: seconds, or an HTTP date (RFC 9110 §10.2.3).
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
