"""The tutorials and the course: each executes from a fresh kernel, renders to HTML with its figures and no error.

`nbdev_test` skips nbs/tutorials and nbs/course (their `.notest` files): they run here, once each, so that the same
execution is both the test and the rendered page that is checked.
"""
from __future__ import annotations
import json, os, re
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p for d in ('tutorials', 'course') for p in (ROOT/'nbs'/d).glob('[0-9]*.ipynb'))
COURSE = [p for p in LESSONS if p.parent.name == 'course']
SOLUTIONS = sorted((ROOT/'nbs'/'course'/'solutions').glob('[0-9]*.ipynb'))   # one per lesson, opened on purpose
INSTALL = re.compile(r"try: import mixhic\s*\nexcept ImportError:\s*\n\s+%pip install")   # a magic must start its line

def _ids(p): return f'{p.parent.name}/{p.stem}'

def _cells(path:Path)->list: return json.loads(path.read_text())['cells']
def _src(cell:dict)->str: return ''.join(cell['source'])

def test_there_are_tutorials_and_lessons():
    assert len([p for p in LESSONS if p.parent.name == 'tutorials']) >= 6
    assert len(COURSE) >= 5 and [p.name for p in SOLUTIONS] == [p.name for p in COURSE]
    for d in ('tutorials', 'course'): assert (ROOT/'nbs'/d/'.notest').exists()   # executed here, not twice

@pytest.mark.parametrize('path', LESSONS, ids=_ids)
def test_opens_as_a_lesson(path):
    "First a Colab-style cell installing mixhic when missing; then the title, what you will learn, run time and data."
    cells = json.loads(path.read_text())['cells']
    assert cells[0]['cell_type'] == 'code' and INSTALL.search(''.join(cells[0]['source'])), f'{path.name}: no install cell first'
    intro = ''.join(cells[1]['source'])
    assert cells[1]['cell_type'] == 'markdown' and intro.startswith('# '), f'{path.name}: no title after the install cell'
    for part in ('What you will learn', 'Run time', 'Data'): assert part in intro, f'{path.name}: the opening says nothing of {part!r}'
    src = '\n'.join(''.join(c['source']) for c in cells if c['cell_type'] == 'code')
    assert '#| export' not in src and 'default_exp' not in src, f'{path.name}: tutorials export nothing'
    assert 'import mixhic' in src or 'from mixhic' in src

@pytest.mark.parametrize('path', COURSE, ids=_ids)
def test_solutions_sit_in_their_own_notebook(path):
    "A lesson shows exercises only; each links to its solution in solutions/<lesson>.ipynb, which holds them all."
    cells = _cells(path)
    src = '\n'.join(_src(c) for c in cells)
    assert 'code-fold' not in src and not re.search(r'^#+ Solution', src, flags=re.M), f'{path.name}: a solution is left in the lesson'
    ks = re.findall(r'^### Exercise (\d+)', src, flags=re.M)
    assert ks, f'{path.name}: no exercises'
    for k in ks: assert f'](solutions/{path.name}#solution-{k})' in src, f'{path.name}: exercise {k} does not link to its solution'
    sol = path.parent/'solutions'/path.name
    assert sol.exists() and (path.parent/'solutions'/'.notest').exists()
    sol_src = [_src(c) for c in _cells(sol)]
    assert sol_src[0].startswith('# ') and f'](../{path.name})' in sol_src[0], f'{sol.name}: no title linking back to the lesson'
    heads = [m for t in sol_src for m in re.findall(r'^## Solution (\d+)', t, flags=re.M)]
    assert heads == ks, f'{sol.name}: solutions {heads} for exercises {ks}'

THROUGH_REGISTRY = [ROOT/'nbs'/d/f for d, f in (('course', '01_contact_maps.ipynb'), ('course', '02_distance_decay.ipynb'),
                    ('course', '03_tads_and_loops.ipynb'), ('course', '04_accessibility.ipynb'),
                    ('tutorials', '03_map_prediction.ipynb'), ('tutorials', '05_expression.ipynb'))]

@pytest.mark.parametrize('path', THROUGH_REGISTRY, ids=_ids)
def test_reads_real_data_through_the_registry(path):
    "These lessons run on any machine: each real file comes from `datasets.prepare` (derived, checksummed), no local path."
    from mixhic.datasets import derived
    code = '\n'.join(_src(c) for c in _cells(path) if c['cell_type'] == 'code')
    for bad in ('real_data(', '../shared', 'shared/data/real', 'MIXHIC_REAL_DATA'):
        assert bad not in code, f'{path.name}: reads {bad!r} directly, not through mixhic.datasets.prepare'
    names = re.findall(r"prepare\(\s*['\"]([^'\"]+)['\"]", code)
    assert names, f'{path.name}: no mixhic.datasets.prepare(name) call'
    unknown = sorted(set(names) - set(derived().name))
    assert not unknown, f'{path.name}: prepare() of names with no recipe: {unknown}'

@pytest.mark.slow
@pytest.mark.parametrize('path', LESSONS + SOLUTIONS, ids=_ids)
def test_executes_and_renders(path, tmp_path):
    "Run the notebook top to bottom in its own folder, then render it: figures present, no error output."
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter
    nb = nbformat.read(path, as_version=4)
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs = []
    old = os.environ.get('MPLBACKEND')
    os.environ['MPLBACKEND'] = 'module://matplotlib_inline.backend_inline'   # the kernel draws inline, as in Jupyter (CI sets Agg)
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    try: NotebookClient(nb, timeout=900, kernel_name='python3', resources={'metadata': {'path': str(path.parent)}}).execute()
    finally:
        if old is None: os.environ.pop('MPLBACKEND', None)
        else: os.environ['MPLBACKEND'] = old
    outs = [o for c in nb.cells if c.cell_type == 'code' for o in c.outputs]
    errors = [o for o in outs if o.output_type == 'error']
    assert not errors, f"{path.name}: {errors[0].ename}: {errors[0].evalue}"
    tb = [o.text for o in outs if o.output_type == 'stream' and 'Traceback (most recent call last)' in o.text]
    assert not tb, f'{path.name}: a traceback was printed:\n{tb[0][-2000:]}'
    n_img = sum('image/png' in o.get('data', {}) for o in outs)
    assert n_img >= 1 or path in SOLUTIONS, f'{path.name}: no figure'
    html, _ = HTMLExporter().from_notebook_node(nb)
    (tmp_path/f'{path.stem}.html').write_text(html)
    assert html.count('<img') >= n_img and 'jp-OutputArea-output' in html
    assert 'ansi-red' not in html or 'Traceback' not in html

def test_sidebar_lists_every_page():
    "The docs sidebar: getting started, tutorials, course (by glob) and every API notebook by name."
    side = (ROOT/'nbs'/'sidebar.yml').read_text()
    for sec in ('Getting started', 'Tutorials', 'Course', 'API'): assert f'section: {sec}' in side
    assert '"tutorials/[0-9]*.ipynb"' in side and '"course/[0-9]*.ipynb"' in side
    api = sorted(p.name for p in (ROOT/'nbs').glob('[0-9]*.ipynb'))
    missing = [n for n in api if n not in side]
    assert not missing, f'sidebar.yml lacks {missing}'
    assert (ROOT/'.github'/'workflows'/'deploy.yaml').exists()
