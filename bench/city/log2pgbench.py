#!/usr/bin/env python3
"""Turns PostgreSQL statement logs (log_statement = 'all') of one API request
into a pgbench script: each extended-protocol statement with its logged
parameters inlined as literals, in the order the API sent them. The pool's
`SELECT $1` liveness check is kept (the API pays it too). Inserted audit rows
get a fresh id per run (`gen_random_uuid()` for the first parameter), since
the logged one can be inserted only once.

With --fresh-ids, the "id" of every inserted row (an id the API minted, e.g.
a new case, its events and clocks) becomes a fresh id per transaction, the
same one wherever the request used it: md5 of its number and two random
numbers pgbench draws per transaction.

usage: log2pgbench.py [--fresh-ids] < captured.log > script.sql
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

fresh = "--fresh-ids" in sys.argv[1:]
minted = {}  # logged literal of a new row's id -> fresh expression
if fresh:
    print("\\set r1 random(1, 2000000000)")
    print("\\set r2 random(1, 2000000000)")
for sql, params in entries:
    if sql.startswith('INSERT INTO "audit_log"'):
        params[1] = "gen_random_uuid()"
    if fresh and sql.startswith("INSERT"):
        # The "id" column's parameter is a new row's id: mint a fresh one.
        cols = re.match(r'INSERT INTO "\w+" \(([^)]*)\) VALUES \(([^)]*)\)', sql)
        if cols:
            names = [c.strip().strip('"') for c in cols.group(1).split(",")]
            values = [v.strip() for v in cols.group(2).split(",")]
            if "id" in names and values[names.index("id")].startswith("$"):
                n = int(values[names.index("id")][1:])
                lit = params.get(n)
                if lit and lit != "gen_random_uuid()" and lit not in minted:
                    minted[lit] = "md5('%d:' || :r1 || ':' || :r2)::uuid" % len(minted)
    for n in sorted(params, reverse=True):
        sql = re.sub(r"\$%d(?!\d)" % n, lambda _: params[n], sql)
    for lit, expr in minted.items():
        sql = sql.replace(lit, expr)
    print(sql.rstrip(";") + ";")
