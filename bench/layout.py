"""Layout figures of the library (issue 15): where task names are compared, private store members used, CLI size,
the longest function, `;`-joined statements and long lines, per module. Prints a table; reads only mixhic/*.py."""
from __future__ import annotations
import argparse, ast, io, re, sys, tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASK_NAMES = {'maps', 'loops', 'expr', 'expression'}
TASK_MODULES = {'maps', 'loops', 'expression'}          # the task units: comparisons of task names belong there
PRIVATE_STORE = re.compile(r"\._(arr|tables|mm|check)\b|\bmanifest\[|\.manifest\.get\(|_status_windows")


def task_comparisons(tree:ast.AST)->int:
    "Comparisons (==, !=, in, not in) with a task name as a string literal on either side, and dict keys of task names."
    n = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            parts = [node.left, *node.comparators]
            for p in parts:
                if isinstance(p, ast.Constant) and p.value in TASK_NAMES: n += 1
                if isinstance(p, (ast.Tuple, ast.List, ast.Set)) and any(isinstance(e, ast.Constant) and e.value in TASK_NAMES for e in p.elts): n += 1
        if isinstance(node, ast.Dict) and sum(isinstance(k, ast.Constant) and k.value in TASK_NAMES for k in node.keys) >= 2: n += 1
    return n


def semicolons(src:str)->int:
    "Statements joined with `;` (tokens outside strings and comments)."
    toks = tokenize.generate_tokens(io.StringIO(src).readline)
    return sum(t.type == tokenize.OP and t.string == ';' for t in toks)


def longest_function(tree:ast.AST)->tuple[int, str]:
    best = (0, '')
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            best = max(best, (node.end_lineno - node.lineno + 1, node.name))
    return best


def wide_functions(tree:ast.AST, k:int=8)->int:
    "Functions (not methods of dataclasses) taking `k` or more parameters."
    n = 0
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            names = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs if x.arg not in ('self', 'cls')]
            n += len(names) >= k
    return n


def measure(lib:Path)->list[dict]:
    rows = []
    for p in sorted(lib.glob('**/*.py')):
        if p.name in ('_modidx.py', '__init__.py', '__main__.py'): continue
        src = p.read_text()
        tree = ast.parse(src)
        lines = src.splitlines()
        mod = p.relative_to(lib).with_suffix('').as_posix().replace('/', '.')
        fn_len, fn_name = longest_function(tree)
        rows.append(dict(module=mod, lines=len(lines), task_cmp=task_comparisons(tree),
                         private_store=0 if p.stem == 'store' else len(PRIVATE_STORE.findall(src)),
                         semicolons=semicolons(src), long_lines=sum(len(l) > 120 for l in lines),
                         wide_fns=wide_functions(tree), longest=fn_len, longest_name=fn_name,
                         task_unit=p.stem in TASK_MODULES or mod.startswith('tasks.')))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--lib', default=str(ROOT/'mixhic'), help='package folder to measure (default: this clone\'s mixhic/)')
    a = ap.parse_args(argv)
    rows = measure(Path(a.lib))
    hdr = f"{'module':<22}{'lines':>7}{'task cmp':>10}{'priv store':>11}{'; joins':>9}{'>120 ch':>9}{'>=8 args':>9}  longest function"
    print(hdr)
    print('-' * len(hdr))
    for r in rows:
        print(f"{r['module'] + (' *' if r['task_unit'] else ''):<22}{r['lines']:>7}{r['task_cmp']:>10}{r['private_store']:>11}"
              f"{r['semicolons']:>9}{r['long_lines']:>9}{r['wide_fns']:>9}  {r['longest']} ({r['longest_name']})")
    tot = lambda k, f=lambda r: True: sum(r[k] for r in rows if f(r))
    lines = tot('lines')
    top = max(rows, key=lambda r: r['longest'])
    cli = next((r['lines'] for r in rows if r['module'] == 'cli'), 0)
    print('-' * len(hdr))
    print(f"task-name comparisons outside task units: {tot('task_cmp', lambda r: not r['task_unit'])} "
          f"(inside: {tot('task_cmp', lambda r: r['task_unit'])})")
    print(f"private store members / manifest keys used outside store.py: {tot('private_store')}")
    print(f"cli.py lines: {cli}")
    print(f"longest function: {top['longest']} lines ({top['module']}.{top['longest_name']})")
    print(f"';'-joined statements: {tot('semicolons')}")
    print(f"lines over 120 characters: {tot('long_lines')} of {lines} ({100 * tot('long_lines') / max(lines, 1):.1f} %)")
    print(f"functions with 8 or more parameters: {tot('wide_fns')}")


if __name__ == '__main__':
    sys.exit(main())
