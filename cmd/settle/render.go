package main

import (
	"context"
	"strings"

	"settle/engine"
	"settle/engine/store"
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
	return func(ctx context.Context, res *engine.Result, runDir string, meta store.Meta) error {
		opts := report.NewOptions()
		opts.Lang, opts.Formats = lang, fs
		opts.RunID, opts.Source = meta.RunID, meta.Source
		opts.GeneratedAt = meta.StartedAt.In(engine.Shanghai)
		if progress != nil {
			opts.Progress = func(done, total int) { progress.Step("reports", done, total) }
		}
		return report.Render(ctx, res, runDir, opts)
	}, nil
}
