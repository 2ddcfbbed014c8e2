"""The store against independent computations: Hi-C transforms and balancing from cooler's own matrices, parallel and
repeated builds identical, regions equal to windows."""
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

def test_log1p(deep, tmp_path):
    st = store_of(deep, tmp_path)
    for c, i, j in WINDOWS:
        np.testing.assert_allclose(st.hic(c, i, j), np.log1p(raw_matrix(deep['cool'], c)[i:i + 50, j:j + 50]), rtol=1e-3, atol=1e-3)

def test_clip255(deep, tmp_path):
    "The reference's transform: counts clipped at 255, divided by the chromosome's maximum."
    st = store_of(deep, tmp_path, transform='clip255')
    for c, i, j in WINDOWS:
        raw = raw_matrix(deep['cool'], c)
        assert raw.max() > 255                                          # the clip is exercised
        want = np.minimum(raw, 255) / np.minimum(raw, 255).max()
        np.testing.assert_allclose(st.hic(c, i, j), want[i:i + 50, j:j + 50], rtol=1e-3, atol=1e-3)
    assert st.manifest['chroms']['chr1']['transform_info'] == {'transform': 'clip255', 'max': 255.0}

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

def test_region_equals_windows(synth_store):
    st = Store(synth_store)
    hic, trk = st.region('chr1', 500_000, 750_000)                       # bins 100..149
    w_hic, w_trk = st.window('chr1', 100, 100)
    np.testing.assert_array_equal(hic, w_hic)
    np.testing.assert_array_equal(trk, w_trk[:2500])
    with pytest.raises(ValueError, match='chr1'): st.region('chr1', 2_900_000, 3_100_000)
