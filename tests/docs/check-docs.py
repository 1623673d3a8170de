#!/usr/bin/python3
# make check-docs: runs every command block of README.md (```sh fences) and
# of every man page's EXAMPLES (.Bd -literal blocks and .Dl lines), each
# with bash -e -o pipefail in a scratch folder per document, the tools of
# bin/ first on PATH, and checks each block's exit status.
#
# Fixtures, the same for every document, in its scratch folder:
#   shakespeare.txt   tiny Shakespeare (examples/data/tinyshakespeare.txt)
#   gpt2/             GPT-2's encoder.json and vocab.bpe (tests/data/gpt2)
#   examples/, tests/ links to the source tree's, for README.md, which is
#                     read at the top of the tree
# Blocks of one document run in order in one folder, so a block may use
# the files of the blocks before it.
#
# A comment just before a block changes how it runs, and says why in the
# source: in a man page `.\" check-docs: OLD => NEW` (README.md:
# `<!-- check-docs: OLD => NEW -->`) runs it with the text OLD replaced by
# NEW (how a long example runs at a tiny size; OLD must occur), and
# `check-docs: skip REASON` does not run it (the reason is printed).
#
# usage: check-docs.py [-l] [file ...]   (-l: print the blocks, run nothing;
# default: README.md and man/*.[157])
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Block:
    def __init__(self, doc, line, text, marks):
        self.doc, self.line, self.text, self.marks = doc, line, text, marks


def unroff(s):
    """The text a .Bd -literal line renders as."""
    s = s.replace('\\e', '\x00').replace('\\-', '-').replace('\\&', '')
    s = s.replace('\\(aq', "'").replace('\\(dq', '"')
    return s.replace('\x00', '\\')


def man_blocks(path):
    blocks, marks, in_ex, lit, start = [], [], False, None, 0
    for n, line in enumerate(open(path, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if line.startswith('.Sh '):
            in_ex = line == '.Sh EXAMPLES'
            continue
        if not in_ex:
            continue
        m = re.match(r'\.\\" check-docs: (.*)', line)
        if lit is not None:
            if line == '.Ed':
                blocks.append(Block(path, start, '\n'.join(lit) + '\n', marks))
                lit, marks = None, []
            else:
                lit.append(unroff(line))
        elif m:
            marks.append(m.group(1))
        elif line.startswith('.Bd -literal'):
            lit, start = [], n
        elif line.startswith('.Dl '):
            blocks.append(Block(path, n, unroff(line[4:]) + '\n', marks))
            marks = []
    return blocks


def readme_blocks(path):
    blocks, marks, code, start = [], [], None, 0
    for n, line in enumerate(open(path, encoding='utf-8'), 1):
        line = line.rstrip('\n')
        if code is not None:
            if line.startswith('```'):
                blocks.append(Block(path, start, '\n'.join(code) + '\n', marks))
                code, marks = None, []
            else:
                code.append(line)
            continue
        m = re.match(r'<!-- check-docs: (.*) -->$', line)
        if m:
            marks.append(m.group(1))
        elif line == '```sh':
            code, start = [], n
        elif line.startswith('```'):
            marks = []
    return blocks


def apply_marks(b):
    """The text to run, or (None, reason) to skip."""
    text = b.text
    for mk in b.marks:
        if mk.startswith('skip '):
            return None, mk[5:]
        old, sep, new = mk.partition(' => ')
        if not sep:
            raise SystemExit(f'{b.doc}:{b.line}: bad check-docs comment: {mk}')
        if old not in text:
            raise SystemExit(f'{b.doc}:{b.line}: check-docs: {old!r} is not in the block')
        text = text.replace(old, new)
    return text, None


def fixtures(d):
    shutil.copy(os.path.join(ROOT, 'examples/data/tinyshakespeare.txt'), os.path.join(d, 'shakespeare.txt'))
    os.symlink(os.path.join(ROOT, 'tests/data/gpt2'), os.path.join(d, 'gpt2'))
    os.symlink(os.path.join(ROOT, 'examples'), os.path.join(d, 'examples'))
    os.symlink(os.path.join(ROOT, 'tests'), os.path.join(d, 'tests'))


def main(argv):
    list_only = bool(argv) and argv[0] == '-l'
    if list_only:
        argv = argv[1:]
    docs = argv or [os.path.join(ROOT, 'README.md')] + sorted(glob.glob(os.path.join(ROOT, 'man/*.[157]')))
    env = dict(os.environ, PATH=os.path.join(ROOT, 'bin') + os.pathsep + os.environ.get('PATH', ''), LC_ALL='C.UTF-8')
    failed = ran = skipped = 0
    t_all = time.monotonic()
    scratch = tempfile.mkdtemp(prefix='check-docs.')
    try:
        for doc in docs:
            blocks = readme_blocks(doc) if doc.endswith('.md') else man_blocks(doc)
            name = doc if argv else os.path.relpath(doc, ROOT)
            d = os.path.join(scratch, os.path.basename(doc))
            os.mkdir(d)
            fixtures(d)
            for b in blocks:
                text, why = apply_marks(b)
                where = f'{name}:{b.line}'
                if list_only:
                    print(f'--- {where}' + (f' (skipped: {why})' if why else ''))
                    print(text if text else b.text, end='')
                    continue
                if text is None:
                    print(f'skip {where}: {why}')
                    skipped += 1
                    continue
                t0 = time.monotonic()
                p = subprocess.run(['bash', '-e', '-o', 'pipefail', '-c', text], cwd=d, env=env,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
                dt = time.monotonic() - t0
                ran += 1
                # 141: a tool before `head` died of SIGPIPE, as the tools should
                if p.returncode in (0, 141):
                    print(f'ok   {where} ({dt:.1f} s)')
                else:
                    failed += 1
                    print(f'FAIL {where} ({dt:.1f} s): exit status {p.returncode}')
                    print(''.join('    ' + l + '\n' for l in text.splitlines()), end='')
                    out = p.stdout.decode('utf-8', 'replace').splitlines()
                    print(''.join('  | ' + l + '\n' for l in out[-15:]), end='')
    finally:
        shutil.rmtree(scratch)
    if not list_only:
        print(f'check-docs: {ran} blocks run, {failed} failed, {skipped} skipped, '
              f'{time.monotonic() - t_all:.0f} s')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
