"""Talks to the web role and to the database by their role names, as between Compose services."""

import subprocess
import urllib.request


def visits():
    with urllib.request.urlopen("http://web:8080/") as r:
        return int(r.read().decode().split()[1])


first, second = visits(), visits()
assert second == first + 1, (first, second)
rows = subprocess.run(["psql", "-Atc", "select count(*) from visits"],
                      check=True, capture_output=True, text=True).stdout.strip()
assert int(rows) == second, (rows, second)
print(f"ok: {second} visits so far")
