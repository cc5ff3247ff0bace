//go:build !unix

package main

import "errors"

func freeSpace(string) (uint64, error) { return 0, errors.ErrUnsupported }

func canWrite(string) error { return nil }
