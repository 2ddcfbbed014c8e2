"""Fuzz cases of the genome-wide writers (issue 17: "nothing lost"): an output path that names a file the store was
built from, an existing file, or a path that cannot be written, must raise one ValueError naming the output (and the
input it would destroy) before any model runs, and leave every file as it was.

Each case is one row of `CASES`, so the figures can be re-run: `pytest tests/test_fuzz_predict.py -q` prints one
result per case. The store is built from private copies of the tiny inputs, so a regression destroys only those."""
from __future__ import annotations
import hashlib, os, shutil
from pathlib import Path
import numpy as np, pytest
from helpers import write_cool
from conftest import TINY_SIZES
from mixhic.store import Store, build_store
from mixhic.predict import check_outputs, predict_maps, predict_loops, predict_expression

class Ran(Exception): "The model was called: the output was checked too late (after work began)."

def trip(hic, trk): raise Ran('the model ran before the outputs were checked')

def identity(hic, trk): return hic[:, 0].numpy()

def digest(p)->str: return hashlib.sha256(open(p, 'rb').read()).hexdigest()

@pytest.fixture(scope='module')
def ctx(tiny, tmp_path_factory)->dict:
    "Private copies of the tiny inputs (and a CAGE track and a checkpoint), a store built from them, an output folder."
    d = tmp_path_factory.mktemp('inputs')
    inp = {k: Path(shutil.copy(tiny[k], d/Path(tiny[k]).name)) for k in ('cool', 'atac', 'dnase', 'loops', 'genes')}
    inp['cage'] = Path(shutil.copy(tiny['atac'], d/'cage.bw'))
    inp['ckpt'] = d/'best.pt'
    inp['ckpt'].write_bytes(b'not a real checkpoint')
    st = Store(build_store(inp['cool'], {'atac': inp['atac'], 'dnase': inp['dnase']}, d/'S.mixhic', loops=inp['loops'],
                           genes=inp['genes'], cage=inp['cage'], progress=False))
    return {'st': st, 'inp': inp, 'out': tmp_path_factory.mktemp('outputs')}

def _old(c:dict, name:str)->Path:
    "An existing output file `name` in the output folder, holding known bytes."
    p = c['out']/name
    p.write_text('an earlier result')
    return p

def _link(c:dict, name:str, src:Path, hard:bool=False)->Path:
    "A (hard or symbolic) link `name` in the output folder to input `src`."
    p = c['out']/name
    if not p.exists(): (os.link if hard else os.symlink)(src, p)
    return p

# (case, call(ctx), the error's words): every call must raise ValueError before `trip` runs
CASES = [
    # the three reported cases: an output that is an input of the store
    ('maps onto the input map', lambda c: predict_maps(c['st'], trip, c['inp']['cool']), 'destroy the Hi-C map that store S.mixhic'),
    ('maps onto the input map, force', lambda c: predict_maps(c['st'], trip, c['inp']['cool'], force=True), 'destroy the Hi-C map'),
    ('maps onto the input map, relative path', lambda c: predict_maps(c['st'], trip, os.path.relpath(c['inp']['cool']), force=True),
     'destroy the Hi-C map'),
    ('maps onto the input map, as a URI', lambda c: predict_maps(c['st'], trip, f"{c['inp']['cool']}::/", force=True), 'destroy the Hi-C map'),
    ('maps onto a symlink to the input map', lambda c: predict_maps(c['st'], trip, _link(c, 'sym.cool', c['inp']['cool']), force=True),
     'destroy the Hi-C map'),
    ('maps onto a hard link to the input map', lambda c: predict_maps(c['st'], trip, _link(c, 'hard.cool', c['inp']['cool'], True), force=True),
     'destroy the Hi-C map'),
    ('maps given the store path', lambda c: predict_maps(str(c['st'].path), trip, c['inp']['cool'], force=True), 'destroy the Hi-C map'),
    ('expression table onto the gene table', lambda c: predict_expression(c['st'], trip, c['inp']['genes'], force=True),
     'destroy the gene table that store S.mixhic'),
    ('expression bigWig onto the ATAC track', lambda c: predict_expression(c['st'], trip, c['out']/'e.tsv', c['inp']['atac'], force=True),
     'destroy track atac that store S.mixhic'),
    ('expression bigWig onto the DNase track', lambda c: predict_expression(c['st'], trip, c['out']/'e.tsv', c['inp']['dnase']),
     'destroy track dnase'),
    ('expression bigWig onto the CAGE track', lambda c: predict_expression(c['st'], trip, c['out']/'e.tsv', c['inp']['cage'], force=True),
     'destroy the CAGE track'),
    ('loops onto the input loops', lambda c: predict_loops(c['st'], trip, c['inp']['loops'], force=True), 'destroy the loop table'),
    ('an output onto the checkpoint', lambda c: check_outputs([c['inp']['ckpt']], c['st'], True, also=[c['inp']['ckpt']]),
     'destroy an input of this command'),
    # an existing output, without force
    ('maps onto an existing file', lambda c: predict_maps(c['st'], trip, _old(c, 'old.cool')), 'old.cool exists; pass force=True (--force)'),
    ('loops onto an existing file', lambda c: predict_loops(c['st'], trip, _old(c, 'old.bedpe')), 'old.bedpe exists; pass force=True'),
    ('expression bigWig onto an existing file', lambda c: predict_expression(c['st'], trip, c['out']/'new.tsv', _old(c, 'old.bw')),
     'old.bw exists'),
    # outputs that cannot be written: found before the work, not after it
    ('maps into the store folder', lambda c: predict_maps(c['st'], trip, c['st'].path/'p.cool', force=True), 'inside store'),
    ('maps onto the store folder', lambda c: predict_maps(c['st'], trip, c['st'].path, force=True), 'inside store'),
    ('maps under a file', lambda c: predict_maps(c['st'], trip, _old(c, 'genes.tsv')/'run'/'p.cool'), 'is a file, not a directory'),
    ('maps onto a directory', lambda c: predict_maps(c['st'], trip, c['out'], force=True), 'is a directory'),
    ('expression table and bigWig on one path', lambda c: predict_expression(c['st'], trip, c['out']/'x', c['out']/'.'/'x'),
     'given twice as an output'),
]

@pytest.mark.parametrize('case,call,words', CASES, ids=[c[0] for c in CASES])
def test_refused_before_work_and_nothing_changed(ctx, case, call, words):
    files = [p for p in ctx['inp'].values()] + sorted(p for p in ctx['out'].iterdir() if p.is_file())
    before = {p: digest(p) for p in files}
    outs_before = set(ctx['out'].iterdir())
    with pytest.raises(ValueError, match=words.replace('(', r'\(').replace(')', r'\)')): call(ctx)
    assert {p: digest(p) for p in files} == before                         # no input and no earlier result changed
    assert set(ctx['out'].iterdir()) - outs_before <= {ctx['out']/n for n in ('old.cool', 'old.bedpe', 'old.bw', 'genes.tsv',
                                                                              'sym.cool', 'hard.cool')}   # only the case's own setup

def test_force_replaces_an_earlier_result(ctx):
    "With force, an existing output (not an input) is replaced by a valid cooler, atomically."
    import cooler
    out = ctx['out']/'again.cool'
    out.write_text('an earlier result')
    predict_maps(ctx['st'], identity, out, force=True, progress=False)
    assert cooler.Cooler(str(out)).info['nbins'] > 0 and not list(ctx['out'].glob('.again.cool*'))

def test_mcool_input_is_protected(tmp_path):
    "A store built from one resolution of an .mcool protects the .mcool file, whichever way the output names it."
    m = write_cool(f"{tmp_path/'in.mcool'}::resolutions/5000", TINY_SIZES)
    write_cool(f"{m}::resolutions/10000", TINY_SIZES, res=10_000)
    st = Store(build_store(m, None, tmp_path/'h.mixhic', res=5000, progress=False))
    before = digest(m)
    for out in (m, f'{m}::/resolutions/5000', f'{m}::resolutions/10000'):
        with pytest.raises(ValueError, match='destroy the Hi-C map that store h.mixhic'): predict_maps(st, trip, out, force=True)
    assert digest(m) == before
