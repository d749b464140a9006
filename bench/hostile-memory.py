#!/usr/bin/env python3
"""Peak memory of the harness against two hostile gateways (issue 19, item 1).

  fast-endless  a 200 event stream of content chunks, as fast as the socket
                takes them, never sending [DONE]; the run ends at --timeout 10s
  long-line     one `data:` line of 500 MB without a line break, then silence

The gateway is a raw HTTP server on loopback in this script; the harness is
run under /usr/bin/time -v and its "Maximum resident set size" is printed
with what the run wrote. Usage:

  bench/hostile-memory.py [path/to/evalgate]   (default target/release/evalgate)
"""

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading

SECONDS = 10
LINE_BYTES = 500 * 1024 * 1024


def serve(mode, sent):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)

    def handle(conn):
        try:
            buf = b""
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"
            conn.sendall(head)
            if mode == "fast-endless":
                event = b'data: {"id":"gen_x","choices":[{"index":0,"delta":{"content":"' + b"x" * 200 + b'"}}]}\n\n'
                block = event * ((1 << 20) // len(event))
                while True:
                    conn.sendall(block)
                    sent[0] += len(block)
            else:
                conn.sendall(b'data: {"x":"')
                block = b"a" * (1 << 20)
                for _ in range(LINE_BYTES // len(block)):
                    conn.sendall(block)
                    sent[0] += len(block)
                conn.recv(1)  # silence until the client gives up
        except OSError:
            pass
        finally:
            conn.close()

    def accept():
        while True:
            conn, _ = srv.accept()
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return srv.getsockname()[1]


def run(binary, mode):
    sent = [0]
    port = serve(mode, sent)
    with tempfile.TemporaryDirectory() as tmp:
        suite = os.path.join(tmp, "s.yaml")
        with open(suite, "w") as f:
            f.write("name: hostile\nmodels: [h/x]\ncases:\n  - id: a\n    prompt: hi\n")
        out = os.path.join(tmp, "run")
        cmd = ["/usr/bin/time", "-v", binary, "run", suite, "--gateway",
               f"http://127.0.0.1:{port}/v1", "--no-catalog", "--no-progress",
               "--max-retries", "0", "--timeout", f"{SECONDS}s", "--out", out]
        env = dict(os.environ, AI_GATEWAY_API_KEY="sk-bench")
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
        rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
        wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", p.stderr)
        rec = {}
        jsonl = os.path.join(out, "responses.jsonl")
        if os.path.exists(jsonl):
            with open(jsonl) as f:
                rec = json.loads(f.readline())
        size = os.path.getsize(jsonl) if os.path.exists(jsonl) else 0
        print(f"{mode:13} exit {p.returncode}  peak RSS {int(rss.group(1)) / 1024:.1f} MiB  "
              f"wall {wall.group(1)}  served {sent[0] / 2**20:.0f} MiB  "
              f"row {rec.get('status')}/{rec.get('error_kind')} truncated={rec.get('truncated')}  "
              f"responses.jsonl {size / 2**20:.2f} MiB")


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/evalgate"
    for mode in ["fast-endless", "long-line"]:
        run(binary, mode)


if __name__ == "__main__":
    main()
