package main

import (
	"strings"

	"settle/job"
	"settle/report"
)

// rendererFrom validates --formats and --lang and returns the report renderer (nil: none).
func rendererFrom(formats, lang string, progress *termProgress) (job.Renderer, error) {
	if lang != "zh" && lang != "en" {
		return nil, usagef("--lang %q: want zh or en", lang)
	}
	var fs []string
	for _, f := range strings.Split(formats, ",") {
		f = strings.TrimSpace(f)
		switch f {
		case "":
		case report.FormatXLSX, report.FormatPDF:
			fs = append(fs, f)
		default:
			return nil, usagef("--formats %q: %q is not xlsx or pdf", formats, f)
		}
	}
	if len(fs) == 0 {
		return nil, nil
	}
	opts := report.NewOptions()
	opts.Lang, opts.Formats = lang, fs
	if progress != nil {
		opts.Progress = func(done, total int) { progress.Step("reports", done, total) }
	}
	return job.Reports(opts), nil
}
