// Command gen writes the benchmark days of bench/README.md with the generator (package
// fixtures): a city-day is one city (Taiyuan scale, 457 outlets × 5 counters), a province-day
// the 11 cities of Shanxi, each in its own sub-folder of canonical whole-city files, each with
// its own seed. settle reads such a directory as one day (connectors/file).
//
//	go run ./bench/gen -out /tmp/bench/city                 # TY, 457 × 5
//	go run ./bench/gen -out /tmp/bench/province -cities 11  # TY, DT, … LL: 11 × 457 × 5
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"settle/connectors/demo"
	"settle/engine"
	"settle/fixtures"
)

// cities of a province-day, in order: the 11 of Shanxi (fixtures.CityName knows them).
var cities = []string{"TY", "DT", "YQ", "CZ", "JC", "SZ", "JZ", "YC", "XZ", "LF", "LL"}

func main() {
	out := flag.String("out", "", "directory to write into (a sub-folder per city)")
	n := flag.Int("cities", 1, "cities: 1 (a city-day) to 11 (a province-day)")
	outlets := flag.Int("outlets", 457, "outlets per city")
	counters := flag.Int("counters", 5, "counters per outlet")
	anomalies := flag.Float64("anomalies", demo.NewConfig().Anomalies, "probability per counter of an injected anomaly (the demo's)")
	date := flag.String("date", "2026-11-21", "business date")
	flag.Parse()
	if err := run(*out, *n, *outlets, *counters, *anomalies, *date); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out string, n, outlets, counters int, anomalies float64, date string) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	if n < 1 || n > len(cities) {
		return fmt.Errorf("-cities %d: want 1 to %d", n, len(cities))
	}
	d, err := time.ParseInLocation("2006-01-02", date, engine.Shanghai)
	if err != nil {
		return fmt.Errorf("-date %q: %w", date, err)
	}
	rows, bytes := 0, int64(0)
	for i, city := range cities[:n] {
		cfg := fixtures.NewConfig()
		cfg.Date, cfg.City, cfg.Outlets, cfg.Counters, cfg.Anomalies = d, city, outlets, counters, anomalies
		cfg.Seed = int64(i + 1)                  // city 1 is the demo's day (seed 1)
		cfg.CounterBase = i * outlets * counters // IMEIs, card serials, invoice codes unique in the province
		day, err := fixtures.Generate(cfg)
		if err != nil {
			return fmt.Errorf("city %s: %w", city, err)
		}
		dir := filepath.Join(out, city)
		if err := fixtures.WriteDir(day, dir); err != nil {
			return fmt.Errorf("city %s: %w", city, err)
		}
		err = filepath.WalkDir(dir, func(p string, de os.DirEntry, err error) error {
			if err != nil || de.IsDir() || filepath.Ext(p) != ".csv" || de.Name() == "truth.csv" {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			bytes += int64(len(b))
			for _, c := range b {
				if c == '\n' {
					rows++
				}
			}
			rows-- // the header
			if bytesHasFooter(b) {
				rows--
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	fmt.Printf("wrote %s: %d cities × %d outlets × %d counters, %d data lines, %d bytes\n", out, n, outlets, counters, rows, bytes)
	return nil
}

// bytesHasFooter reports whether a canonical file ends with a TOTAL footer line.
func bytesHasFooter(b []byte) bool {
	end := len(b)
	if end > 0 && b[end-1] == '\n' {
		end--
	}
	start := end
	for start > 0 && b[start-1] != '\n' {
		start--
	}
	return end-start >= 6 && string(b[start:start+6]) == "TOTAL,"
}
