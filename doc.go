// Package settle turns a telecom operator's nine daily counter revenue feeds into one
// reconciled, signed-off settlement report per counter.
//
// The folders, in the order data flows through them, then the test tooling:
//
//	feed/               the nine feeds: names, columns, enumerations, normalized Arrow schema
//	money/              integer fen in, yuan text out; never a float
//	connectors/         where feeds come from: the Source interface and its Input/Missing values
//	connectors/dialect/ the BOSS export dialect and the canonical one (encoding, Chinese headers,
//	                    title lines, XLSX, 合计 footers) read into text tables
//	connectors/file/    exports in a directory tree; connectors/demo/ the built-in generator
//	connectors/boss/    the BOSS report API: bounded, retrying pulls of a day
//	connectors/kept/    the inputs a run kept in the store (--source store:DATE)
//	connectors/conformance/ the checks every Source passes against a generated day
//	engine/             the columnar core: rows into Arrow records, every rule of RULES.md
//	store/              the run store: lock, temporary run directory, atomic publication, manifest,
//	                    kept inputs, reuse of an earlier run's unchanged files
//	internal/atomicfile/ one file written whole or not at all (temp, fsync, rename, fsync dir)
//	internal/flock/      flock(2) with the EINTR retry, for the store's and the page's lock files
//	internal/buildid/    the running build's id, for caches valid only for the build that wrote them
//	internal/writeback/  start writing a file out early (sync_file_range), before a run's syncfs
//	report/             XLSX and PDF settlement reports and roll-ups; assets/fonts/ the PDF font
//	diff/               what changed between two runs (settle diff)
//	period/             the month-end close (settle period): period sums, checks, reports, close/reopen
//	internal/sheettext/ XML-safe cell text and fixed-pitch widths, for report/ and diff/
//	internal/xlsxrows/  an XLSX sheet's rows, written through one writer that keeps the first error
//	internal/i18n/      the translation table: every person-facing text as a typed key, zh and en
//	job/                one run end to end: lock, fetch, reconcile, write, render, publish
//	metrics/            Prometheus metrics: the run's textfile (settle run --metrics-file) and
//	                    the page's registry (/metrics of settle serve)
//	workflow/           closing exceptions: items, reasons, sign-offs and the chained event log
//	                    in SQLite (<store>/workflow.db), shared by the pages and settle items
//	web/                the one-click page: clerks, reviewers, auditors (settle serve);
//	                    web/signoff/ the sign-off log, web/users/ who may log in
//	cmd/settle/         the command line: flags and config in, exit codes out
//	fixtures/           the deterministic BOSS-day generator with its ground truth;
//	                    fixtures/sim/ the BOSS report API simulator with fault injection
//	bench/              end-to-end benchmarks and peer comparisons
//	hardening/          end-to-end tests of the real binary: reproducibility, kills, locks,
//	                    hostile input, secrets and permissions
//	deploy/             how to run it elsewhere: Containerfile, systemd units, Kubernetes
//	                    manifests, Prometheus alert rules, each checked by a test
package settle
