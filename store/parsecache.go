package store

import "path/filepath"

// ParsedName is the folder of a date directory that holds the parse cache of the date's
// latest run (engine.Config.CacheDir): what reading each input gave, so that the next run
// of the date reads only the inputs that changed. It is a cache: removing it costs the next
// run time, never a figure.
const ParsedName = "parsed"

// ParseCacheDir returns the date's parse cache folder (which may not exist yet).
func (s *Store) ParseCacheDir(date string) (string, error) {
	dd, err := s.dateDir(date)
	if err != nil {
		return "", err
	}
	return filepath.Join(dd, ParsedName), nil
}
