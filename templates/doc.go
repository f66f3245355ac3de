// Package templates holds the starter nook.toml files used by `nook init`.
package templates
