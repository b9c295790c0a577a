#!/usr/bin/env bash
# check-docs.sh [ROOT]: the repository's docs and comments point only at things
# that exist. ROOT defaults to the repository holding this script; a ROOT that
# is not a git work tree is checked file by file (the tests feed it one).
#
#  (a) every relative Markdown link ([text](path) or [ref]: path) in a .md file
#      resolves to an existing file or folder, and its #anchor, when it points
#      into a .md file, to one of that file's headings;
#  (b) every repository path that a .md file or a code comment names (a token
#      starting with one of the top-level folders, e.g. `docs/sync.md`,
#      `tests/bats/*.bats`) exists; globs must match something, {a,b} expands;
#      every bare NAME.md mentioned is the name of a file in the tree, and
#      every docs/ path in code exists, in strings (usage, messages) too;
#  (c) no file refers to ../shared except the shared captures (../shared/pcaps),
#      and none to a path of this machine (/work/, /root/, /home/ anywhere;
#      /tmp/ in docs and comments). System paths (/run/xpro, /sys/fs/bpf,
#      /etc/xpro, ...) are fine.
#
# Each problem is printed as FILE:LINE: message; the exit status is 1 when
# there is any, 0 otherwise (2 for a usage error). `make check-docs` runs it,
# tests/bats/01-docs.bats tests it.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-$here}
if [[ $# -gt 1 || ! -d $root ]]; then
  echo "usage: check-docs.sh [ROOT]" >&2
  exit 2
fi
exec /usr/bin/python3 - "$root" <<'PY'
import fnmatch, glob, os, re, subprocess, sys

root = os.path.abspath(sys.argv[1])

# The repository's top-level folders: a token starting with one of them (and
# not glued to something before it) is a repository path. Folders found in the
# tree count too, so a new top-level folder is covered without an edit here.
TOP = {"analysis", "bench", "bpf", "docs", "experiments", "lib", "scripts",
       "tests", "topo", "traffic", "vagrant", "xpro", ".ci"}

# Paths that are named on purpose but are not files of the tree. Each entry:
# (fnmatch pattern of the token, reason). Keep it short.
ALLOW = [
    ("tests/bats/*.bats.log", "TAP logs under $(O)/test-logs, build output"),
    ("*.skel.h", "libbpf skeletons, generated into $(O)/bpf/"),
    ("*.bpf.o", "BPF objects, built into $(O)/bpf/"),
    ("*.lua.h", "the master's Lua embedded at build time, generated into $(O)/"),
    ("debian/build", "the build folder debian/rules gives make (O=), made by a package build"),
    ("debian/bookworm*", "Vagrant's names of the public Debian boxes, not paths"),
    ("debian/trixie*", "Vagrant's names of the public Debian boxes, not paths"),
]
# Bare NAME.md names that are not files of the tree, on purpose.
ALLOW_MD = {
    "report.md": "the report of a run, written into results/ by analysis/xpa.py",
    "compare.md": "the side-by-side report of `make compare`, written into results/",
    "RESULTS.md": "the tables of a run matrix, written into results/matrix/ by analysis/xpm.py",
}
# A name without extension is the program built from NAME.c (tests/unit/test_decide),
# or what bats' `load lib/xpro` loads.
SOURCE_EXT = (".c", ".bash")

# Files not checked, each with its reason.
EXEMPT = {
    "scripts/check-docs.sh": "states the patterns it looks for",
    "tests/bats/01-docs.bats": "writes the very references the checker must report",
}

SKIP_DIRS = {".git", ".vagrant", "results", "__pycache__"}


def tracked_files():
    """Files of the tree: git's index when ROOT is a work tree (files that are
    staged but deleted on disk are left out), else every file under ROOT."""
    try:
        out = subprocess.run(["git", "-C", root, "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True).stdout.strip()
        if os.path.realpath(out) == os.path.realpath(root):
            ls = subprocess.run(["git", "-C", root, "ls-files", "-z"],
                                capture_output=True, text=True, check=True).stdout
            return sorted(f for f in ls.split("\0") if f and os.path.isfile(os.path.join(root, f)))
    except (subprocess.CalledProcessError, FileNotFoundError):
        pass
    files = []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if x not in SKIP_DIRS and not x.startswith("build")]
        for n in names:
            files.append(os.path.relpath(os.path.join(d, n), root))
    return sorted(files)


# Folders of outputs: a few files there may be tracked (bench history), but a
# path under them in a doc names what a run writes, which need not exist here.
OUTPUT_TOPS = {"results"}

files = tracked_files()
for f in files:
    if "/" in f:
        top = f.split("/", 1)[0]
        if not top.startswith("build") and top not in OUTPUT_TOPS:
            TOP.add(top)
basenames = {os.path.basename(f) for f in files}
problems = []


def problem(f, line, msg):
    problems.append(f"{f}:{line}: {msg}")


def read(f):
    try:
        with open(os.path.join(root, f), encoding="utf-8") as fh:
            return fh.read()
    except (UnicodeDecodeError, OSError):
        return None


# ---- kinds of files and their comments -------------------------------------

C_EXT = (".c", ".h", ".bpf.c")
HASH_EXT = (".sh", ".bash", ".bats", ".py", ".mk", ".scn", ".conf", ".topo",
            ".example", ".yml", ".yaml", ".toml", ".awk", ".service", ".mount",
            ".timer", ".socket", ".lintian-overrides")
HASH_NAMES = {"Makefile", "Vagrantfile", ".gitignore"}


def kind(f, text):
    b = os.path.basename(f)
    if b.endswith(".md"):
        return "md"
    if b.endswith(C_EXT):
        return "c"
    if b.endswith(".lua"):
        return "lua"
    if b.endswith(HASH_EXT) or b in HASH_NAMES:
        return "py" if b.endswith(".py") else "hash"
    first = text.split("\n", 1)[0]
    if first.startswith("#!"):
        return "py" if "python" in first else "hash"
    return None


def blank_keep_lines(s):
    return re.sub(r"[^\n]", " ", s)


def comments_c(text):
    """The text with everything but comments blanked (line numbers kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(text[i:j])
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(text[i:j])
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            out.append(blank_keep_lines(text[i:j]))
            i = j
        else:
            out.append(c if c == "\n" else " ")
            i += 1
    return "".join(out)


def comments_hash(text, docstrings=False, marker="#"):
    """Comments of shell, make, Python (with its docstrings), Lua (marker --),
    the rest blanked (line numbers kept)."""
    out = [c if c == "\n" else " " for c in text]
    covered = bytearray(len(text))
    if docstrings:
        for m in re.finditer(r'(?s)(\"\"\"|\'\'\').*?\1', text):
            covered[m.start():m.end()] = b"\1" * (m.end() - m.start())
            out[m.start():m.end()] = text[m.start():m.end()]
    pos = 0
    for line in text.split("\n"):
        q = None
        for k, ch in enumerate(line):
            if covered[pos + k]:
                continue
            if q:
                if ch == q:
                    q = None
                continue
            if ch in "\"'" and marker == "#":
                q = ch
            elif line.startswith(marker, k) and (k == 0 or line[k - 1] in " \t;(") \
                    and not line.startswith("#!", k):
                out[pos + k:pos + len(line)] = line[k:]
                break
        pos += len(line) + 1
    return "".join(out)


def comment_text(f, text):
    k = kind(f, text)
    if k == "md":
        return text
    if k == "c":
        return comments_c(text)
    if k == "hash":
        return comments_hash(text)
    if k == "py":
        return comments_hash(text, docstrings=True)
    if k == "lua":
        return comments_hash(text, marker="--")
    return ""


# ---- (a) Markdown links -----------------------------------------------------

def slug(h):
    h = re.sub(r"[`*_]|<[^>]*>", "", h.strip().lower())
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")


_anchors = {}


def anchors(f):
    if f not in _anchors:
        text = read(f) or ""
        seen, out = {}, set()
        for line in strip_fences(text).split("\n"):
            m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m:
                s = slug(m.group(1))
                k = seen.get(s, 0)
                out.add(s if k == 0 else f"{s}-{k}")
                seen[s] = k + 1
        _anchors[f] = out
    return _anchors[f]


def strip_fences(text):
    """Blank fenced code blocks and inline code spans (line numbers kept)."""
    out, fence = [], None
    for line in text.split("\n"):
        m = re.match(r"\s*(```+|~~~+)", line)
        if fence:
            out.append("")
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            out.append("")
            continue
        if line.startswith("    ") or line.startswith("\t"):
            out.append("")  # indented code block
            continue
        out.append(re.sub(r"`[^`]*`", lambda x: " " * len(x.group(0)), line))
    return "\n".join(out)


LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")


def check_links(f, text):
    body = strip_fences(text)
    for no, line in enumerate(body.split("\n"), 1):
        targets = [m.group(1) for m in LINK.finditer(line)]
        m = REFDEF.match(line)
        if m:
            targets.append(m.group(1))
        for t in targets:
            if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", t):
                continue  # http:, https:, mailto:
            path, _, anchor = t.partition("#")
            if path.startswith("/"):
                problem(f, no, f"link '{t}' is an absolute path; link relative to this file")
                continue
            target = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
            full = os.path.join(root, target)
            if target.startswith("..") or not os.path.exists(full):
                problem(f, no, f"broken link '{t}': {target} does not exist")
                continue
            if anchor and target.endswith(".md") and anchor.lower() not in anchors(target):
                problem(f, no, f"broken link '{t}': no heading '#{anchor}' in {target}")


# ---- (b) repository paths named in docs and comments -------------------------

def path_regex():
    tops = "|".join(re.escape(t) for t in sorted(TOP, key=len, reverse=True))
    # not glued to a preceding path, variable or word ($(O)/bpf/x, ../x, a-bpf/x),
    # nor a system header (<bpf/bpf_helpers.h>)
    return re.compile(r"(?<![\w./$\-{}@~%*<])(?:" + tops + r")/[\w.*?\[\]{},/\-+]*")


PATH = None
MDNAME = re.compile(r"(?<![\w./\-])[\w\-.]+\.md\b")


def expand_braces(p):
    m = re.search(r"\{([^{}]*)\}", p)
    if not m:
        return [p]
    return [x for alt in m.group(1).split(",")
            for x in expand_braces(p[:m.start()] + alt + p[m.end():])]


def exists_one(base, q):
    # an upper-case component (NAME, DIR, X) is a placeholder: any name
    q = "/".join(re.sub(r"\b[A-Z][A-Z0-9_]*\b", "*", c) if re.search(r"[a-z]", c) is None
                 or re.fullmatch(r"[A-Z][A-Z0-9_]*(\.\w+)?", c) else c for c in q.split("/"))
    full = os.path.join(base, q)
    if any(ch in q for ch in "*?["):
        return bool(glob.glob(full))
    if os.path.exists(full):
        return True
    return "." not in os.path.basename(q) and any(os.path.exists(full + e) for e in SOURCE_EXT)


def path_exists(p, f):
    """p exists from the top of the tree, or from the folder of the file f that
    names it or one above (tests/bats/*.bats naming lib/xpro.bash)."""
    bases, d = [root], os.path.dirname(f)
    while d:
        bases.append(os.path.join(root, d))
        d = os.path.dirname(d)
    return all(any(exists_one(b, q) for b in bases) for q in expand_braces(p))


def check_paths(f, text):
    if f.endswith(".md"):  # link targets are check (a)'s
        text = re.sub(r"\]\([^)]*\)", lambda m: " " * len(m.group(0)), text)
    for no, line in enumerate(text.split("\n"), 1):
        for m in PATH.finditer(line):
            p = m.group(0).rstrip(".,;:)]}'\"-")
            if p.count("{") != p.count("}"):
                p = p.split("{", 1)[0]
            if not p or p.endswith("//"):
                continue
            if any(fnmatch.fnmatch(p, pat) for pat, _ in ALLOW):
                continue
            if not path_exists(p, f):
                problem(f, no, f"names '{p}', which does not exist in the tree")
        for m in MDNAME.finditer(line):
            name = m.group(0)
            if name not in basenames and name not in ALLOW_MD:
                problem(f, no, f"names '{name}', which is no file of the tree")


DOCNAME = re.compile(r"(?<![\w./$\-{}@~%*<])docs/[\w.\-]*\w")


def check_doc_names(f, text):
    """A doc that code names anywhere (a usage text, an error message) exists."""
    for no, line in enumerate(text.split("\n"), 1):
        for m in DOCNAME.finditer(line):
            if not path_exists(m.group(0), f):
                problem(f, no, f"names '{m.group(0)}', which does not exist in the tree")


# ---- (c) outside references -------------------------------------------------

SHARED = re.compile(r"(?:\.\./)+(?:shared|seeds)(?!/pcaps)\b[\w./\-]*|\bshared/(?:design|seeds)\b[\w./\-]*")
MACHINE = re.compile(r"(?<![\w.$})])/(?:work|root|home)/[\w./\-]*")
TMP = re.compile(r"(?<![\w.$})])/tmp/[\w./\-%]*")


def check_outside(f, text, comments):
    for no, line in enumerate(text.split("\n"), 1):
        for m in SHARED.finditer(line):
            problem(f, no, f"refers to '{m.group(0)}' outside the repository (only ../shared/pcaps may be named)")
        for m in MACHINE.finditer(line):
            problem(f, no, f"refers to '{m.group(0).rstrip('.-')}', a path of one machine")
    for no, line in enumerate(comments.split("\n"), 1):
        for m in TMP.finditer(line):
            problem(f, no, f"refers to '{m.group(0).rstrip('.-')}', a path of one machine")


PATH = path_regex()
for f in files:
    if f in EXEMPT:
        continue
    text = read(f)
    if text is None or "\0" in text:
        continue
    comments = comment_text(f, text)
    if f.endswith(".md"):
        check_links(f, text)
        check_paths(f, text)
    else:
        if comments.strip():
            check_paths(f, comments)
        check_doc_names(f, text)
    check_outside(f, text, comments)

def order(p):
    f, line, _ = p.split(":", 2)
    return (f, int(line))


problems = sorted(set(problems), key=order)
for p in problems:
    print(p)
if problems:
    print(f"check-docs: {len(problems)} problem(s) in {len({p.split(':', 1)[0] for p in problems})} file(s)",
          file=sys.stderr)
    sys.exit(1)
print(f"check-docs: {len(files)} files, links and paths all resolve", file=sys.stderr)
PY
