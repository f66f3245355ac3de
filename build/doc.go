// Package build turns a project's declared packages and setup steps into
// content-addressed layers on top of its image (SPEC §4). Planning is pure
// (Plan: the steps and their cache keys); Builder runs what the store lacks,
// each step in the role namespaces with the host network, on an overlay
// whose upper directory becomes the step's layer.
package build
