package testimage

import (
	"fmt"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// PostgresMajor is the PostgreSQL release of the Postgres test image:
// Debian bookworm's.
const PostgresMajor = "15"

// postgresLayer is the cached root filesystem of the Postgres test image.
// Its name changes with what makes it.
const postgresLayer = "debian-" + DebianSuite + "-postgresql-" + PostgresMajor + "-v1.tar.gz"

// Postgres returns a database image made the way the official postgres
// image is, from Debian's packages, for tests that cannot pull it: a
// Debian root filesystem (mmdebstrap, cached like Debian's) with
// postgresql-15 and gosu installed and no cluster created, plus a layer
// with /usr/local/bin/docker-entrypoint.sh (PostgresEntrypoint); its
// config runs that entrypoint with cmd "postgres" and sets PGDATA, PATH
// and LANG as the official image does. Like it, the image starts as root:
// the entrypoint makes PGDATA the postgres user's, initialises it on first
// start and runs the server as postgres through gosu, which needs the
// full id map. The first call on a machine downloads from Debian's mirror.
func Postgres() (v1.Image, error) {
	postgresOnce.Do(func() { postgresImage, postgresErr = postgres() })
	return postgresImage, postgresErr
}

var (
	postgresOnce  sync.Once
	postgresImage v1.Image
	postgresErr   error
)

func postgres() (v1.Image, error) {
	layerPath, err := cachedRootfs(postgresLayer,
		"--include=postgresql-"+PostgresMajor+",gosu",
		// As the official image does, before postgresql-common is
		// installed: no cluster in the image, the entrypoint makes one.
		`--essential-hook=mkdir -p "$1/etc/postgresql-common/createcluster.d" && echo "create_main_cluster = false" > "$1/etc/postgresql-common/createcluster.d/nook.conf"`,
		// Listen on every address of the pod, not only localhost.
		`--customize-hook=sed -ri "s!^#?(listen_addresses)\s*=\s*\S+.*!\1 = '*'!" "$1/usr/share/postgresql/`+PostgresMajor+`/postgresql.conf.sample"`,
	)
	if err != nil {
		return nil, err
	}
	root, err := tarball.LayerFromFile(layerPath)
	if err != nil {
		return nil, fmt.Errorf("reading the Postgres layer %s: %w", layerPath, err)
	}
	entry, err := Layer(Tar(
		Dir("usr/"), Dir("usr/local/"), Dir("usr/local/bin/"),
		Entry{Name: "usr/local/bin/docker-entrypoint.sh", Body: []byte(PostgresEntrypoint), Mode: 0o755},
	))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, root, entry)
	if err != nil {
		return nil, fmt.Errorf("making the Postgres image: %w", err)
	}
	return mutate.Config(img, v1.Config{
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/postgresql/" + PostgresMajor + "/bin",
			"PG_MAJOR=" + PostgresMajor,
			"PGDATA=/var/lib/postgresql/data",
			"LANG=C.UTF-8",
		},
		Entrypoint:   []string{"docker-entrypoint.sh"},
		Cmd:          []string{"postgres"},
		StopSignal:   "SIGINT",
		ExposedPorts: map[string]struct{}{"5432/tcp": {}},
		Volumes:      map[string]struct{}{"/var/lib/postgresql/data": {}},
	})
}

// PostgresEntrypoint is the Postgres test image's docker-entrypoint.sh:
// what the official image's does, minimally. As root it makes PGDATA and
// the socket directory the postgres user's and runs itself again as
// postgres (gosu); as postgres, on first start (no PG_VERSION in PGDATA)
// it runs initdb with POSTGRES_USER's password (POSTGRES_PASSWORD, or
// POSTGRES_HOST_AUTH_METHOD=trust without one), creates POSTGRES_DB and
// lets every host connect with that method; then it runs the server.
const PostgresEntrypoint = `#!/usr/bin/env bash
set -Eeo pipefail

# "-c fsync=off" and the like are options of the server.
if [ "${1:0:1}" = '-' ]; then
	set -- postgres "$@"
fi

if [ "$1" = 'postgres' ]; then
	mkdir -p "$PGDATA"
	if [ "$(id -u)" = '0' ]; then
		chmod 00700 "$PGDATA"
		find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
		mkdir -p /var/run/postgresql
		chmod 03775 /var/run/postgresql
		find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
		exec gosu postgres "$BASH_SOURCE" "$@"
	fi

	if [ ! -s "$PGDATA/PG_VERSION" ]; then
		auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
		if [ -z "$POSTGRES_PASSWORD" ] && [ "$auth" != trust ]; then
			echo >&2 'error: the database is uninitialized and POSTGRES_PASSWORD is not set:'
			echo >&2 '       set it (or POSTGRES_HOST_AUTH_METHOD=trust) in the env of the role'
			exit 1
		fi
		user="${POSTGRES_USER:-postgres}"
		initdb --username="$user" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-postgres}") $POSTGRES_INITDB_ARGS
		db="${POSTGRES_DB:-$user}"
		if [ "$db" != postgres ]; then
			echo "CREATE DATABASE \"$db\";" | postgres --single -jE -D "$PGDATA" postgres >/dev/null
		fi
		printf '\nhost all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"
		echo 'PostgreSQL init process complete; ready for start up.'
	fi
fi

exec "$@"
`
