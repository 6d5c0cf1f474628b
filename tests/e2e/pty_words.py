#!/usr/bin/env python3
"""Type a recovery sheet's 24 words into `pdsctl recover --words` on a real terminal.

Used by tests/e2e/recovery.rs. pdsctl runs on a pseudo-terminal (the standard library's
pty module), so its interactive prompts behave as they do for a person: each word is
typed as its first four letters and Tab (BIP-39 words are unique by four letters, so the
completion must fill the rest), shorter words in full; at position WRONG_AT a word that
is not in the list is typed first, and the prompt must name that position and ask again.

usage: pty_words.py WORDS_JSON WRONG_AT -- PROGRAM ARGS...
Prints what the terminal showed (escape sequences removed) and exits with pdsctl's
status; exits 3 when an expected prompt or message never came.
"""

import json
import os
import pty
import re
import select
import sys
import time

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\r")


def main() -> int:
    words = json.loads(sys.argv[1])
    wrong_at = int(sys.argv[2])
    cmd = sys.argv[sys.argv.index("--") + 1 :]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    shown = b""
    seen = 0  # how much of `shown` earlier expectations consumed

    def text() -> str:
        return ANSI.sub(b"", shown).decode("utf-8", "replace")

    def expect(pattern: str, timeout: float = 30.0) -> None:
        nonlocal shown, seen
        deadline = time.time() + timeout
        rx = re.compile(pattern)
        while True:
            m = rx.search(text(), seen)
            if m:
                seen = m.end()
                return
            left = deadline - time.time()
            if left <= 0:
                sys.stdout.write(text())
                sys.stdout.write(f"\n[pty_words] timed out waiting for {pattern!r}\n")
                os._exit(3)
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    sys.stdout.write(text())
                    sys.stdout.write(f"\n[pty_words] pdsctl ended before {pattern!r}\n")
                    os._exit(3)
                shown += chunk

    def typed(s: str) -> None:
        os.write(fd, s.encode())
        time.sleep(0.02)

    for n, word in enumerate(words, 1):
        expect(rf"Word\s+{n}\b")
        if n == wrong_at:
            typed("xylophonez\r")
            expect(rf"word {n} is not a BIP-39 word")
            expect(rf"Word\s+{n}\b")
        if len(word) >= 4:
            typed(word[:4])
            typed("\t")
        else:
            typed(word)
        typed("\r")
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(text())
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
