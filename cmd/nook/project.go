package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/nookenv/nook/env"
	"github.com/nookenv/nook/layers"
)

// loadEnv finds, validates and resolves the project's nook.toml.
func loadEnv(g *globals) (*env.Env, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("finding the working directory: %w", err)
	}
	dir := cwd
	if g.dir != "" {
		dir = absFrom(cwd, g.dir)
	}
	var path string
	if g.file != "" {
		path = absFrom(dir, g.file)
	} else if path, err = env.Find(dir); err != nil {
		return nil, err
	}
	cfg, err := env.Load(displayPath(cwd, path))
	if err != nil {
		return nil, err
	}
	return env.Resolve(cfg)
}

// openStore opens the content-addressed store (SPEC §1).
func openStore() (*layers.Store, error) {
	return layers.OpenStore(env.StoreDir())
}

func absFrom(base, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

// displayPath shortens path for messages when it lies below cwd.
func displayPath(cwd, path string) string {
	rel, err := filepath.Rel(cwd, path)
	if err != nil || strings.HasPrefix(rel, "..") {
		return path
	}
	return rel
}
