package main

import (
	"log/slog"

	"settle/connectors"
)

func httpSource(base string, concurrency int, log *slog.Logger) (connectors.Source, error) {
	return nil, usagef("--source %q: the BOSS report API connector is not built yet", base)
}
