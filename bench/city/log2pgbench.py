#!/usr/bin/env python3
"""Turns PostgreSQL statement logs (log_statement = 'all') of one API request
into a pgbench script: each extended-protocol statement with its logged
parameters inlined as literals, in the order the API sent them. The pool's
`SELECT $1` liveness check is kept (the API pays it too). Inserted audit rows
get a fresh id per run (`gen_random_uuid()` for the first parameter), since
the logged one can be inserted only once.

usage: log2pgbench.py < captured.log > script.sql
"""
import re
import sys

entries = []  # (sql, params)
current = None
for line in sys.stdin:
    m = re.search(r"LOG:  (?:execute [^:]+|statement): (.*)$", line)
    if m:
        current = [m.group(1).rstrip("\n"), {}]
        entries.append(current)
        continue
    m = re.search(r"DETAIL:  parameters: (.*)$", line)
    if m and current is not None:
        for name, value in re.findall(r"\$(\d+) = (NULL|'(?:[^']|'')*')", m.group(1)):
            current[1][int(name)] = value

for sql, params in entries:
    if sql.startswith('INSERT INTO "audit_log"'):
        params[1] = "gen_random_uuid()"
    for n in sorted(params, reverse=True):
        sql = re.sub(r"\$%d(?!\d)" % n, lambda _: params[n], sql)
    print(sql.rstrip(";") + ";")
