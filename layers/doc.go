// Package layers turns an image reference into a Snapshot: the ordered,
// unpacked layer directories of an image and its config. It owns image
// references, pulling with go-containerregistry, the content-addressed store
// where each layer is unpacked once by DiffID and shared by every project, and
// the safe unpacker that never writes outside a layer's own directory.
//
// A warm lookup (Store.Lookup) reads one small record and does no network
// access and no hashing: that is what keeps `nook run` fast.
package layers
