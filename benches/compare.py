#!/usr/bin/env python3
"""Side-by-side benchmark: breachscope against the tools analysts use instead.

Generates gzip'd nginx combined logs (and a JSON-lines copy, and a single-file
copy) with the project's generator, runs every tool on the same files for the
same three scoping questions, checks that they all give the same answers, and
prints a table: median wall time of interleaved runs, MB/s of uncompressed
input, ratio to single-threaded `zcat` of the same files (the JSON-lines and
single-file rows against zcat of their own input), peak resident memory
against the uncompressed input. Every timed run
starts with its input in the page cache (see `warm`), so that tools are
compared on the same cached bytes and not on how much of them the disk had
to give again.

The three questions, asked after one parse:
  Q1  requests from the attacker addresses, by address, user and path;
  Q2  users whose requests succeeded from those addresses, first and last time;
  Q3  one user's paths in a UTC window.

Run through benches/compare.sh, which installs the peers first.
"""

import argparse
import csv
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The binary cargo built: CARGO_TARGET_DIR when set (CI keeps its cache
# outside the clone), ./target otherwise.
BIN = ROOT / os.environ.get("CARGO_TARGET_DIR", "target") / "release" / "breachscope"

COMBINED_RE = (
    r'^(\S+) \S+ (\S+) \[([^\]]+)\] "(\S+) ([^ ?"]*)(?:\?[^ "]*)? [^"]*" (\d{3}) (\S+)'
)


def run_timed(cmd, stdout=subprocess.DEVNULL, shell=False, env=None):
    """Runs cmd under /usr/bin/time; returns (seconds, peak RSS in MB, stdout)."""
    if shell:
        full = ["/usr/bin/time", "-f", "%e %M", "bash", "-c", cmd]
    else:
        full = ["/usr/bin/time", "-f", "%e %M"] + cmd
    start = time.monotonic()
    proc = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    wall = time.monotonic() - start
    if proc.returncode not in (0, 3):
        sys.exit(f"failed ({proc.returncode}): {cmd}\n{proc.stderr.decode()[-2000:]}")
    last = proc.stderr.decode().strip().splitlines()[-1].split()
    # GNU time reports KiB; MB here are 10^6 bytes, as for the input.
    return wall, int(last[1]) * 1024 / 1e6, proc.stdout.decode()


def warm(paths):
    """Reads `paths` whole, untimed, into the page cache. Machines that
    reclaim idle memory (this project's VM pages out file data left unread
    for about a minute) would otherwise time some runs on cached input and
    others on the disk, depending on what ran before them."""
    for path in paths:
        with open(path, "rb") as f:
            while f.read(1 << 20):
                pass


def uncompressed(paths):
    """Bytes of `paths` once decompressed."""
    return sum(int(subprocess.run(f"zcat {f} | wc -c", shell=True, capture_output=True,
                                  text=True).stdout) for f in paths)


def generate(work, size, files, fmt, tag, days=8):
    """Generated edge logs over `days` days in `files` gzip files."""
    out = work / tag
    if (out / "truth.json").exists():
        return out
    cmd = [str(BIN), "generate", "--out", str(out), "--size", size, "--files", str(files),
           "--days", str(days), "--edge-only", "--gzip-all", "--edge-user",
           "--customers", "50000", "--edge-format", fmt, "-q"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def questions(truth):
    ips = sorted(truth["attacker_ips"])
    day = truth["first_malicious_event"][:10]
    window = (f"{day} 09:00:00", f"{day} 12:00:00")
    return ips, "dana.reyes", window


def sql_texts(ips, user, window):
    in_list = ", ".join(f"'{ip}'" for ip in ips)
    q1 = (f"SELECT ip, principal AS user, path, count(*) AS requests FROM events "
          f"WHERE ip IN ({in_list}) GROUP BY ip, principal, path")
    q2 = (f"SELECT principal AS user, min(ts) AS first, max(ts) AS last, count(*) AS requests "
          f"FROM events WHERE ip IN ({in_list}) AND status < 400 AND principal IS NOT NULL "
          f"GROUP BY principal")
    q3 = (f"SELECT path, count(*) AS requests FROM events WHERE principal = '{user}' "
          f"AND ts >= '{window[0]}' AND ts < '{window[1]}' GROUP BY path")
    return [q1, q2, q3]


PEER_SQL = """
import sys, duckdb
files, ips, user, lo, hi = sys.argv[1].split(','), sys.argv[2].split(','), sys.argv[3], sys.argv[4], sys.argv[5]
con = duckdb.connect()
con.execute("SET threads TO 2")
src = "read_csv([" + ",".join("'%s'" % f for f in files) + "], columns={'line': 'VARCHAR'}, delim=chr(1), quote='', escape='', header=false, compression='gzip')"
rx = r'''RX'''
con.execute(f'''CREATE TABLE events AS SELECT
  regexp_extract(line, '{rx}', 1) AS ip,
  nullif(regexp_extract(line, '{rx}', 2), '-') AS principal,
  strptime(regexp_extract(line, '{rx}', 3), '%d/%b/%Y:%H:%M:%S %z') AS ts,
  regexp_extract(line, '{rx}', 5) AS path,
  CAST(regexp_extract(line, '{rx}', 6) AS INTEGER) AS status
  FROM {src}''')
con.execute("SET TimeZone = 'UTC'")
inl = ",".join("'%s'" % i for i in ips)
for q in [
  f"SELECT ip, principal AS user, path, count(*) AS requests FROM events WHERE ip IN ({inl}) GROUP BY ALL",
  f"SELECT principal AS user, epoch(min(ts))::BIGINT AS first, epoch(max(ts))::BIGINT AS last, count(*) AS requests FROM events WHERE ip IN ({inl}) AND status < 400 AND principal IS NOT NULL GROUP BY ALL",
  f"SELECT path, count(*) AS requests FROM events WHERE principal = '{user}' AND ts >= TIMESTAMPTZ '{lo}+00' AND ts < TIMESTAMPTZ '{hi}+00' GROUP BY ALL",
]:
    print("#query")
    for row in con.execute(q).fetchall():
        print("\\t".join("" if v is None else str(v) for v in row))
""".replace("RX", COMBINED_RE)

PEER_POLARS = """
import sys, polars as pl
from datetime import datetime, timezone
files, ips, user, lo, hi = sys.argv[1].split(','), sys.argv[2].split(','), sys.argv[3], sys.argv[4], sys.argv[5]
frames = [pl.read_csv(f, has_header=False, separator=chr(1), quote_char=None, new_columns=['line']) for f in files]
lines = pl.concat(frames)
rx = r'''RX'''
g = pl.col('line').str.extract_groups(rx)
events = lines.select(g.alias('g')).unnest('g').select(
    pl.col('1').alias('ip'),
    pl.when(pl.col('2') == '-').then(None).otherwise(pl.col('2')).alias('principal'),
    pl.col('3').str.strptime(pl.Datetime('us', 'UTC'), '%d/%b/%Y:%H:%M:%S %z').alias('ts'),
    pl.col('5').alias('path'),
    pl.col('6').cast(pl.Int32).alias('status'),
)
lo = datetime.fromisoformat(lo).replace(tzinfo=timezone.utc)
hi = datetime.fromisoformat(hi).replace(tzinfo=timezone.utc)
q1 = events.filter(pl.col('ip').is_in(ips)).group_by(['ip', 'principal', 'path']).len()
q2 = (events.filter(pl.col('ip').is_in(ips) & (pl.col('status') < 400) & pl.col('principal').is_not_null())
      .group_by('principal').agg(pl.col('ts').min().dt.epoch('s').alias('first'), pl.col('ts').max().dt.epoch('s').alias('last'), pl.len()))
q3 = events.filter((pl.col('principal') == user) & (pl.col('ts') >= lo) & (pl.col('ts') < hi)).group_by('path').len()
for q in (q1, q2, q3):
    print('#query')
    for row in q.iter_rows():
        print('\\t'.join('' if v is None else str(v) for v in row))
""".replace("RX", COMBINED_RE)


def norm_rows(rows):
    out = []
    for row in rows:
        out.append(tuple("" if v in (None, "", "-") else str(v) for v in row))
    return sorted(out)


def parse_tsv_blocks(text):
    blocks, cur = [], None
    for line in text.splitlines():
        if line == "#query":
            cur = []
            blocks.append(cur)
        elif cur is not None and line:
            cur.append(line.split("\t"))
    return [norm_rows(b) for b in blocks]


def to_epoch(value):
    from datetime import datetime
    return str(int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()))


def parse_breachscope(text):
    blocks = [b for b in text.split("\n\n") if b.strip()]
    parsed = []
    for i, block in enumerate(blocks):
        rows = list(csv.reader(io.StringIO(block)))[1:]
        if i == 1:
            rows = [[r[0], to_epoch(r[1]), to_epoch(r[2]), r[3]] for r in rows]
        parsed.append(norm_rows(rows))
    return parsed


def parse_rg(text):
    return [norm_rows([line.split("\t") for line in text.splitlines() if line])]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="2GiB")
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=str(ROOT / "bench-data"))
    ap.add_argument("--no-peers", action="store_true", help="only breachscope, zcat and pigz")
    ap.add_argument("--scaling", action="store_true", help="also thread and size scaling of scope")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    combined = generate(work, args.size, args.files, "combined", f"combined-{args.size}-{args.files}")
    jsonl = generate(work, args.size, args.files, "json", f"json-{args.size}-{args.files}")
    single = generate(work, args.size, 1, "combined", f"single-{args.size}")
    files = sorted(str(p) for p in (combined / "logs" / "edge").glob("*.gz"))
    json_files = sorted(str(p) for p in (jsonl / "logs" / "edge").glob("*.gz"))
    single_files = sorted(str(p) for p in (single / "logs" / "edge").glob("*.gz"))
    truth = json.loads((combined / "truth.json").read_text())
    ips, user, window = questions(truth)
    (work / "ips.txt").write_text("\n".join(ips) + "\n")
    sqls = sql_texts(ips, user, window)
    raw_bytes = uncompressed(files)
    json_bytes = uncompressed(json_files)
    (work / "duck.py").write_text(PEER_SQL)
    (work / "pl.py").write_text(PEER_POLARS)
    peer_args = [",".join(files), ",".join(ips), user, window[0], window[1]]
    out_dir = work / "scope-out"
    query_args = [str(BIN), "query", *files, "-q", "--output", "csv"]
    for q in sqls:
        query_args += ["--sql", q]
    awk = ("awk -v OFS='\\t' 'BEGIN{while((getline l < \"%s\")>0) ips[l]=1} "
           "($1 in ips){split($7,p,\"?\"); n[$1 OFS $3 OFS p[1]]++} END{for(k in n) print k, n[k]}'"
           % (work / "ips.txt"))
    # name: (command, through the shell, input files)
    tools = {
        "zcat": ("zcat " + " ".join(files) + " > /dev/null", True, files),
        "pigz -dc -p2": ("pigz -dc -p2 " + " ".join(files) + " > /dev/null", True, files),
        "breachscope sweep": ([str(BIN), "sweep", *files, "--ioc-file", str(work / "ips.txt"), "-q"], False, files),
        "breachscope query (Q1-Q3)": (query_args, False, files),
        "breachscope scope": ([str(BIN), "scope", *files, "--out", str(out_dir), "-q"], False, files),
        "breachscope scope, JSON lines": ([str(BIN), "scope", *json_files, "--out", str(out_dir) + "-json", "-q"],
                                          False, json_files),
        "breachscope scope, one file": ([str(BIN), "scope", *single_files, "--out", str(out_dir) + "-single", "-q"],
                                        False, single_files),
        "zcat, one file": ("zcat " + " ".join(single_files) + " > /dev/null", True, single_files),
        "zcat, JSON lines": ("zcat " + " ".join(json_files) + " > /dev/null", True, json_files),
    }
    if not args.no_peers:
        tools["ripgrep -z -F + awk (Q1)"] = (
            "rg -z -N --no-filename -F -f %s %s | %s" % (work / "ips.txt", " ".join(files), awk), True, files)
        tools["DuckDB (parse, Q1-Q3)"] = ([sys.executable, str(work / "duck.py"), *peer_args], False, files)
        tools["Polars (parse, Q1-Q3)"] = ([sys.executable, str(work / "pl.py"), *peer_args], False, files)

    times = {name: [] for name in tools}
    rss = {name: 0.0 for name in tools}
    outputs = {}
    for run in range(args.runs):
        for name, (cmd, shell, inputs) in tools.items():
            warm(inputs)
            wall, mem, stdout = run_timed(cmd, stdout=subprocess.PIPE, shell=shell)
            times[name].append(wall)
            rss[name] = max(rss[name], mem)
            outputs[name] = stdout
            print(f"run {run + 1}/{args.runs}  {name:32s} {wall:7.2f} s  {mem:8.0f} MB", file=sys.stderr)

    answers = {"breachscope": parse_breachscope(outputs["breachscope query (Q1-Q3)"])}
    if not args.no_peers:
        answers["DuckDB"] = parse_tsv_blocks(outputs["DuckDB (parse, Q1-Q3)"])
        answers["Polars"] = parse_tsv_blocks(outputs["Polars (parse, Q1-Q3)"])
        answers["ripgrep"] = parse_rg(outputs["ripgrep -z -F + awk (Q1)"])
    agree = True
    for tool, blocks in answers.items():
        for i, rows in enumerate(blocks):
            if rows != answers["breachscope"][i]:
                agree = False
                print(f"MISMATCH: {tool} Q{i + 1}: {len(rows)} rows vs breachscope "
                      f"{len(answers['breachscope'][i])}", file=sys.stderr)
    # The three copies hold the same traffic, so scope must tell the same
    # story (attack window, accounts, records read, detections) from each.
    scopes = [n for n in tools if n.startswith("breachscope scope")]
    same_story = all(outputs[n] == outputs[scopes[0]] for n in scopes)
    if not same_story:
        for n in scopes:
            print(f"{n}:\n{outputs[n]}", file=sys.stderr)
    # Each row is set against zcat of its own input: the JSON-lines copy
    # holds the same events in twice the bytes.
    bases = {"one file": statistics.median(times["zcat, one file"]),
             "JSON lines": statistics.median(times["zcat, JSON lines"])}
    base = statistics.median(times["zcat"])
    lines = [
        f"Input: {len(files)} gzip files, {sum(os.path.getsize(f) for f in files) / 1e6:.0f} MB compressed, "
        f"{raw_bytes / 1e6:.0f} MB uncompressed (the JSON-lines copy: {json_bytes / 1e6:.0f} MB); "
        f"median of {args.runs} interleaved runs; "
        f"{os.cpu_count()} cores.",
        "",
        "| tool | time (s) | MB/s | time / zcat | peak RSS (MB) | RSS / input |",
        "|---|---|---|---|---|---|",
    ]
    for name in tools:
        t = statistics.median(times[name])
        ref = next((b for kind, b in bases.items() if kind in name), base)
        raw = json_bytes if "JSON lines" in name else raw_bytes
        share = rss[name] * 1e6 / raw
        lines.append(
            f"| {name} | {t:.2f} | {raw / 1e6 / t:.0f} | {t / ref:.2f} | {rss[name]:.0f} | {share:.2f} |"
        )
    lines.append("")
    lines.append("Answers (Q1-Q3): " + ("identical across " + ", ".join(answers) if agree else "MISMATCH, see stderr"))
    lines.append("")
    lines.append("Summary of scope on the combined, JSON-lines and one-file copies: "
                 + ("identical" if same_story else "DIFFERENT, see stderr"))
    if args.scaling:
        lines += scaling(work, args, files, out_dir)
    table = "\n".join(lines)
    print(table)
    (work / "results.md").write_text(table + "\n")
    if not (agree and same_story):
        sys.exit(1)


def scaling(work, args, files, out_dir):
    """Scope with 1 and 2 threads, and at four input sizes: each a row, the
    median of `args.runs` rounds that run every row once."""
    rows = []  # (label, input files, threads)
    for threads in ("1", "2"):
        rows.append((f"{threads} thread(s), {args.size}", files, threads))
    for size in ("512MiB", "1GiB", "2GiB", "4GiB"):
        data = generate(work, size, args.files, "combined", f"combined-{size}-{args.files}")
        sized = sorted(str(p) for p in (data / "logs" / "edge").glob("*.gz"))
        rows.append((f"2 threads, {size}", sized, "2"))
    times = {label: [] for label, _, _ in rows}
    for run in range(args.runs):
        for label, inputs, threads in rows:
            warm(inputs)
            wall = run_timed([str(BIN), "scope", *inputs, "--out", str(out_dir), "-q", "--threads", threads])[0]
            times[label].append(wall)
            print(f"run {run + 1}/{args.runs}  scope, {label:24s} {wall:7.2f} s", file=sys.stderr)
    lines = ["", "| scope | time (s) | s per GiB uncompressed |", "|---|---|---|"]
    for label, inputs, _ in rows:
        t = statistics.median(times[label])
        lines.append(f"| {label} | {t:.2f} | {t / (uncompressed(inputs) / 2**30):.2f} |")
    return lines


if __name__ == "__main__":
    main()
