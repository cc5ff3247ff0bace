// Package deploy holds the units that run settle elsewhere: a container build
// (Containerfile), systemd units (systemd/), Kubernetes manifests (kubernetes/) and
// Prometheus alert rules (prometheus/). It has no code: its tests check each file with the
// tool that will read it where one is at hand (promtool, systemd-analyze), else by reading it.
package deploy
