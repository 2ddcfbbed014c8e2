"""Real data: the `.hic` reader (hictkpy) on Juicer's test file (hg19, chr22 only, 100 kb and 2.5 Mb, no 'chr').

The reference for every value is hic-straw, Juicer's own reader: compared live where it is installed
(`getRecordsAsMatrix`, read independently of mixhic), and as figures recorded from it (`STRAW_SUMS`) everywhere.
"""
from __future__ import annotations
import numpy as np, pytest
from helpers import write_bigwig
from conftest import real_file
from mixhic.hic import open_hic, norms, resolve_balance, hic_band, weights
from mixhic.store import band_window, build_store, Store

RES = 100_000
CHR22_HG19, CHR22_HG38 = 51_304_566, 50_818_468

@pytest.fixture(scope='module')
def hic_path(real_data):
    import hictkpy   # noqa: F401  (a requirement of mixhic: a missing reader is a failure, not a skip)
    return real_file(real_data, 'gm12878_imr90_hg19_chr21/original/test_chr22.hic')

# recorded from hic-straw 1.3.1: {(i, j): (sum of the raw 50 x 50 block, its first row's first three values)}
STRAW_SUMS = {(300, 300): (4982, [52, 9, 7]), (300, 320): (3049, [2, 0, 1]), (330, 300): (2037, [0, 1, 0]),
              (160, 170): (3803, [0, 0, 0])}
STRAW_KR_300_310 = (4116.8602867126465, [0.73579001, 0.70600176, 0.])   # hic-straw's KR block (300, 310): sum, row 0

@pytest.fixture(scope='module')
def src(hic_path): return open_hic(hic_path, RES)

def straw(hic_path, norm, i, j, w=50):
    "hic-straw's own (w, w) block, rows from bin `i`, columns from bin `j` (its coordinates are inclusive)."
    hicstraw = pytest.importorskip('hicstraw')   # optional: `STRAW_SUMS` hold its figures for machines without it
    mzd = hicstraw.HiCFile(str(hic_path)).getMatrixZoomData('22', '22', 'observed', norm, 'BP', RES)
    return np.asarray(mzd.getRecordsAsMatrix(i * RES, (i + w - 1) * RES, j * RES, (j + w - 1) * RES), dtype=np.float64)

def test_opens_at_100kb(src):
    assert (src.kind, src.res, src.assembly) == ('hic', RES, 'hg19')
    assert src.chromsizes['22'] == CHR22_HG19 and 'chr22' not in src.chromsizes and 'ALL' not in src.chromsizes
    assert src.n_bins('22') == 514

def test_lists_resolutions(hic_path):
    for res in (5_000, None):                                     # None: the 5-kb default of a .hic
        with pytest.raises(ValueError, match=r"has no 5,000 bp resolution; it has: 100,000, 2,500,000 bp"): open_hic(hic_path, res)
    assert open_hic(hic_path, 2_500_000).n_bins('22') == 21

def test_kr_available(src):
    assert 'KR' in norms(src)
    assert resolve_balance(src, 'auto') == 'KR'
    with pytest.raises(ValueError, match="no 'weight' normalisation"): resolve_balance(src, 'weight')

@pytest.mark.parametrize('i,j', [(300, 300), (300, 320), (330, 300), (160, 170)])
def test_band_equals_straw(src, hic_path, i, j):
    "Raw counts: exactly hic-straw's matrix, rows = anchor 1, for diagonal and off-diagonal blocks."
    band, info = hic_band(src, '22', 100, 'none')
    want = straw(hic_path, 'NONE', i, j)
    assert want.sum() > 0
    np.testing.assert_array_equal(band_window(band, i, j, 50), want)

@pytest.mark.parametrize('i,j', list(STRAW_SUMS))
def test_band_equals_recorded_straw(src, i, j):
    "Raw counts: the figures hic-straw gave for the same blocks (no hic-straw needed)."
    band, _ = hic_band(src, '22', 100, 'none')
    got = band_window(band, i, j, 50)
    assert got.sum() == STRAW_SUMS[(i, j)][0] and got[0, :3].tolist() == STRAW_SUMS[(i, j)][1]

def test_kr_equals_recorded_straw(src):
    band, info = hic_band(src, '22', 70, 'KR')
    got = band_window(band, 300, 310, 50) / info['scale']
    np.testing.assert_allclose(np.nansum(got), STRAW_KR_300_310[0], rtol=1e-5)
    np.testing.assert_allclose(got[0, :3], STRAW_KR_300_310[1], rtol=1e-5, atol=1e-6)

def test_kr_band_equals_straw(src, hic_path):
    "KR: hic-straw's KR matrix times the one scale that keeps the raw total of the band."
    band, info = hic_band(src, '22', 70, 'KR')
    assert info['norm'] == 'KR' and 0.5 < info['scale'] < 2
    want = straw(hic_path, 'KR', 300, 310)
    got = band_window(band, 300, 310, 50) / info['scale']
    ok = np.isfinite(want)
    np.testing.assert_allclose(got[ok], want[ok], rtol=1e-4, atol=1e-4)
    w = weights(src, '22', 'KR')
    assert w.shape == (514,) and np.isfinite(w[300:360]).all()        # bins with contacts have a weight
    assert np.isnan(w[:100]).all()                                      # chr22 starts at 16 Mb: no data, no weight

def test_store_from_hic_reconciles_names(hic_path, tmp_path):
    "A bigWig writing 'chr22' (hg19 length) serves the .hic's '22'; a bigWig of the hg38 length is refused."
    bw = write_bigwig(tmp_path/'hg19.bw', {'chr22': CHR22_HG19}, step=100_000)
    st = Store(build_store(hic_path, {'sig': bw}, tmp_path/'hic.mixhic', res=RES, chroms=['chr22'], progress=False))
    assert st.chroms == ['22'] and st.n_bins == {'22': 514} and st.manifest['hic']['norm'] == 'KR'
    assert st.manifest['hic']['kind'] == 'hic' and (st.cfg.trk_res, st.cfg.trk_per_bin) == (2_000, 50)   # 100-kb bins: 2-kb track bins
    hic, trk = st.window('22', 300, 320)
    assert hic.shape == (50, 50) and trk.shape == (5_000, 1)
    bw38 = write_bigwig(tmp_path/'hg38.bw', {'chr22': CHR22_HG38}, step=1_000_000)
    with pytest.raises(ValueError) as e:
        build_store(hic_path, {'sig': bw38}, tmp_path/'never.mixhic', res=RES, chroms=['22'], progress=False)
    assert '50,818,468' in str(e.value) and '51,304,566' in str(e.value)
