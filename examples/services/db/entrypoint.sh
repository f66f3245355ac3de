#!/bin/sh
# What the official postgres image's docker-entrypoint.sh does, minimally:
# as root, make the data directory the postgres user's and run again as
# postgres; as postgres, initialise an empty PGDATA on first start (the
# volume keeps it), then run the server on every address of the pod.
set -e
PATH=/usr/lib/postgresql/15/bin:$PATH
if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown postgres "$PGDATA" /var/run/postgresql
	chmod 700 "$PGDATA"
	exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$0" "$@"
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
	pwfile=$(mktemp)
	echo "$POSTGRES_PASSWORD" > "$pwfile"
	initdb --username=postgres --pwfile="$pwfile" --auth-host=scram-sha-256 --auth-local=peer
	rm -f "$pwfile"
	echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
fi
exec postgres -c listen_addresses='*'
