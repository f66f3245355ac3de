package mounts

// UseLowerdirPlus lets the external Apply tests take overlay's mount(2)
// fallback (false) instead of lowerdir+ (true).
var UseLowerdirPlus = &useLowerdirPlus
