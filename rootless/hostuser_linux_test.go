package rootless

import (
	"slices"
	"syscall"
	"testing"
)

func TestNestedIDMap(t *testing.T) {
	for _, c := range []struct {
		name  string
		lines []idMapLine
		you   uint32
		want  []syscall.SysProcIDMap
	}{{
		name:  "single-id map: you to the role's root, as bwrap --uid",
		lines: []idMapLine{{0, 1001, 1}},
		you:   1001,
		want:  []syscall.SysProcIDMap{{ContainerID: 1001, HostID: 0, Size: 1}},
	}, {
		name:  "full map: you and the role's id of your number swap, the rest is itself",
		lines: []idMapLine{{0, 1001, 1}, {1, 100000, 65536}},
		you:   1001,
		want: []syscall.SysProcIDMap{
			{ContainerID: 1001, HostID: 0, Size: 1},
			{ContainerID: 0, HostID: 1001, Size: 1},
			{ContainerID: 1, HostID: 1, Size: 1000},
			{ContainerID: 1002, HostID: 1002, Size: 64535},
		},
	}, {
		name:  "full map smaller than your id: nothing to swap, the nested root is unmapped",
		lines: []idMapLine{{0, 70000, 1}, {1, 100000, 1000}},
		you:   70000,
		want: []syscall.SysProcIDMap{
			{ContainerID: 70000, HostID: 0, Size: 1},
			{ContainerID: 1, HostID: 1, Size: 1000},
		},
	}, {
		name:  "you are root: nothing changes",
		lines: []idMapLine{{0, 0, 1}},
		you:   0,
		want:  []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}},
	}} {
		t.Run(c.name, func(t *testing.T) {
			if got := nestedIDMap(c.lines, c.you); !slices.Equal(got, c.want) {
				t.Errorf("nestedIDMap = %+v, want %+v", got, c.want)
			}
		})
	}
}
