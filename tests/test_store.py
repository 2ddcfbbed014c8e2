"""The store against independent computations: Hi-C transforms and balancing from cooler's own matrices, parallel and
serial builds identical, regions equal to windows; accessors against the files."""
from __future__ import annotations
import json
import numpy as np, pytest
from helpers import write_cool, write_bigwig
from conftest import TINY_SIZES
from mixhic.store import build_store, Store

@pytest.fixture(scope='module')
def deep(tmp_path_factory)->dict:
    "A tiny map with diagonal counts ~400, so that the reference's clip at 255 bites; a track."
    d = tmp_path_factory.mktemp('deep')
    return {'cool': write_cool(d/'deep.cool', TINY_SIZES, depth=400, band=80, seed=3), 'atac': write_bigwig(d/'a.bw', TINY_SIZES)}

def raw_matrix(cool, chrom)->np.ndarray:
    import cooler
    return cooler.Cooler(str(cool)).matrix(balance=False).fetch(chrom).astype(np.float64)

def store_of(deep, tmp_path, **kw)->Store:
    return Store(build_store(deep['cool'], {'atac': deep['atac']}, tmp_path/'s.mixhic', progress=False, **kw))

WINDOWS = [('chr1', 10, 10), ('chr1', 60, 95), ('chr2', 70, 40)]

# log1p (the default) against cooler's matrix: 06_store; the transforms on a band: 01_hic
def test_clip255(deep, tmp_path):
    "The reference's transform: counts clipped at 255, divided by the chromosome's maximum."
    st = store_of(deep, tmp_path, transform='clip255')
    for c, i, j in WINDOWS:
        raw = raw_matrix(deep['cool'], c)
        assert raw.max() > 255                                          # the clip is exercised
        want = np.minimum(raw, 255) / np.minimum(raw, 255).max()
        np.testing.assert_allclose(st.hic(c, i, j), want[i:i + 50, j:j + 50], rtol=1e-3, atol=1e-3)
    assert st.manifest['chroms']['chr1']['transform_info'] == {'transform': 'clip255', 'max': 255.0}
    assert st.transform_info('chr1') == {'transform': 'clip255', 'max': 255.0} and st.transform == 'clip255'

def test_oe(deep, tmp_path):
    "Observed / expected: each pixel over the mean of its diagonal on the chromosome."
    st = store_of(deep, tmp_path, transform='oe')
    for c, i, j in WINDOWS:
        raw = raw_matrix(deep['cool'], c)
        exp = np.array([np.diagonal(raw, k).mean() for k in range(len(raw))])
        ii, jj = np.meshgrid(np.arange(i, i + 50), np.arange(j, j + 50), indexing='ij')
        e = exp[np.abs(jj - ii)]
        want = np.divide(raw[ii, jj], e, out=np.zeros_like(e), where=e > 0)
        np.testing.assert_allclose(st.hic(c, i, j), want, rtol=2e-3, atol=2e-3)

def test_balanced_synth_equals_cooler(synth_store, synth):
    "The synthetic map carries ICE weights: the store holds log1p(balanced x scale), NaN where cooler masks a bin."
    import cooler
    st, clr = Store(synth_store), cooler.Cooler(str(synth['hic']))
    assert st.manifest['hic']['norm'] == 'weight'
    for c in st.chroms:
        bal = clr.matrix(balance=True).fetch(c)
        scale = st.manifest['chroms'][c]['norm_scale']
        n = st.n_bins[c]
        for i, j in ((0, 0), (n // 2 - 25, n // 2 - 10), (n - 50, n - 60)):
            want = np.log1p(bal[i:i + 50, j:j + 50] * scale)
            got = st.hic(c, i, j)
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=2e-3, atol=2e-3)
    assert st.manifest['diag']['nonfinite'] > 0                           # the synthetic gap masks windows, as real maps do

def _content(st:Store)->dict:
    m = json.loads(json.dumps(st.manifest))
    for k in ('created',): m.pop(k)
    for c in m['chroms'].values(): c.pop('seconds')
    arrays = {(c, n): np.load(st.path/'chroms'/c/f'{n}.npy') for c in st.chroms for n in ('hic', 'tracks', 'diag')}
    return m, arrays

def test_parallel_build_equals_serial(tiny, tmp_path):
    kw = dict(loops=tiny['loops'], genes=tiny['genes'], progress=False)
    a = Store(build_store(tiny['cool'], {'atac': tiny['atac'], 'dnase': tiny['dnase']}, tmp_path/'a.mixhic', workers=1, **kw))
    b = Store(build_store(tiny['cool'], {'atac': tiny['atac'], 'dnase': tiny['dnase']}, tmp_path/'b.mixhic', workers=2, **kw))
    (ma, xa), (mb, xb) = _content(a), _content(b)
    assert ma == mb
    for k in xa: np.testing.assert_array_equal(xa[k], xb[k], err_msg=str(k))
    assert a.table('loops').equals(b.table('loops')) and a.table('genes').equals(b.table('genes'))

def test_region_tracks_equal_window_tracks(synth_store):
    # the region's Hi-C equals the window's in 06_store; its tracks' values (not only their shape) here
    st = Store(synth_store)
    _, trk = st.region('chr1', 500_000, 750_000)                          # bins 100..149
    np.testing.assert_array_equal(trk, st.window('chr1', 100, 100)[1][:2500])
    with pytest.raises(ValueError, match='chr1'): st.region('chr1', 2_900_000, 3_100_000)

# ---------------------------------------------------------------------------------------------------------------
# the public face: accessors against the files and the manifest they stand for

def test_accessors_are_the_files(synth_store):
    st = Store(synth_store)
    for c in st.chroms:
        d = st.path/'chroms'/c
        np.testing.assert_array_equal(st.band(c), np.load(d/'hic.npy'))
        np.testing.assert_array_equal(st.track_bins(c), np.load(d/'tracks.npy'))
        np.testing.assert_array_equal(st.diag_starts(c), np.load(d/'diag.npy'))
        assert st.band(c).dtype == np.float16 and not st.band(c).flags.writeable     # as stored, memory-mapped
        assert st.transform_info(c) == st.manifest['chroms'][c]['transform_info']
    assert st.n_diag == sum(len(st.diag_starts(c)) for c in st.chroms) == st.manifest['diag']['ok']
    # hic_path, hic_norm, transform, assembly, has_cage and unknown chromosomes of band / transform_info: 06_store
    for bad in (lambda: st.track_bins('chr9'), lambda: st.diag_starts('chr9'), lambda: st.window_status('chr9', [0], [0])):
        with pytest.raises(ValueError, match="no chromosome 'chr9'"): bad()

def test_no_cage(tiny, tmp_path):
    st = Store(build_store(tiny['cool'], {'atac': tiny['atac']}, tmp_path/'s.mixhic', progress=False))
    assert not st.has_cage and st.assembly == 'test' and st.hic_norm == 'none'          # tiny.cool has no weights: raw counts
    with pytest.raises(ValueError, match='without a CAGE track'): st.cage('chr1', 0)

def test_window_status_as_built(synth_store):
    "Every label window's status, recomputed from the stored band, is the one the build wrote."
    st = Store(synth_store)
    for kind, (a, b) in (('loops', ('a', 'b')), ('genes', ('bin', 'bin'))):
        tab = st.table(kind)
        built = tab[tab.status.isin(['ok', 'sparse', 'nonfinite', 'at_edge'])]
        assert {'ok', 'nonfinite'} <= set(built.status)                       # both outcomes are exercised
        for c, g in built.groupby('chrom'):
            assert list(st.window_status(c, g[a] - 25, g[b] - 25)) == g.status.tolist(), (kind, c)
    n = st.n_bins['chr1']
    assert list(st.window_status('chr1', [0, -1, n - 50, n - 49], [0, 0, n - 50, n - 50])) == \
           [st.window_status('chr1', 0, 0)[0], 'at_edge', st.window_status('chr1', n - 50, n - 50)[0], 'at_edge']
    with pytest.raises(ValueError, match='same shape'): st.window_status('chr1', [0, 1], [0])

def test_with_table_leaves_the_disk(synth_store):
    st = Store(synth_store)
    before = (st.path/'loops.tsv').read_bytes()
    lp = st.table('loops')
    new = lp.assign(status=np.where(lp.status == 'ok', 'not_built', lp.status))
    st2 = st.with_table('loops', new)
    assert st2.table('loops').equals(new) and st.table('loops').equals(lp)       # the original store keeps its table
    assert Store(synth_store).table('loops').equals(lp) and (st.path/'loops.tsv').read_bytes() == before
    new.loc[0, 'status'] = 'changed'                                              # the copy holds its own table
    assert st2.table('loops').status[0] != 'changed'
    st2.table('loops').loc[0, 'status'] = 'changed'                               # and hands out copies
    assert st2.table('loops').status[0] != 'changed'
    assert st2.table('genes').equals(st.table('genes')) and st2.chroms == st.chroms
    # the same Hi-C, a loops table without status and an unknown kind: 06_store
    with pytest.raises(ValueError, match='needs columns bin'): st.with_table('genes', lp)
