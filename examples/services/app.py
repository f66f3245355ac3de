"""A web server that counts its visits in Postgres (through psql, so that
it needs nothing but Python's standard library)."""

import http.server
import subprocess
import time


def sql(query):
    out = subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-Atc", query],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        n = sql("insert into visits default values; select count(*) from visits")
        body = f"visits: {n}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# The database listens a moment before it takes queries.
for _ in range(100):
    if subprocess.run(["pg_isready", "-q"]).returncode == 0:
        break
    time.sleep(0.1)
sql("create table if not exists visits (at timestamptz default now())")
print("serving on :8080", flush=True)
http.server.ThreadingHTTPServer(("", 8080), Handler).serve_forever()
