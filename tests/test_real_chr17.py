"""Real data: GM12878 and K562, hg19 chr17 at 25 kb, with ChIA-PET loops (Rao 2014 maps, Peakachu loop lists).

This set has no epigenomic track: the stores are Hi-C-only (`build_store(cool, None, ...)`). The tests look at the Hi-C side: windows centred on a listed
loop must be brighter at their centre pixel than distance-matched negative windows, as SOURCE.md found with an
independent count (median observed/expected 3.2-3.3 at loops against 0.92-1.0 at shifted pixels).
"""
from __future__ import annotations
from collections import Counter
import numpy as np, pytest
from conftest import real_file
from mixhic.store import build_store, Store
from mixhic.data import make_datasets
from mixhic.annot import distance_matched_negatives

D = 'gm12878_k562_hg19_chr17_25kb/derived/'
CHR17_HG19 = 81_195_210

def build(real_data, tmp_path_factory, cool, loops, **kw)->Store:
    out = tmp_path_factory.mktemp('chr17')/'st.mixhic'
    return Store(build_store(real_file(real_data, D + cool), None, out, res=25_000,
                             loops=real_file(real_data, D + loops), progress=False, **kw))

@pytest.fixture(scope='module')
def gm_oe(real_data, tmp_path_factory)->Store:
    "GM12878 raw counts + Heidari RAD21 ChIA-PET loops, Hi-C as observed/expected."
    return build(real_data, tmp_path_factory, 'GM12878_chr17_25kb_raw.chr17.cool',
                 'gm12878.Heidari.rad21-chiapet.hg19.chr17.bedpe', transform='oe')

@pytest.fixture(scope='module')
def k562_kr(real_data, tmp_path_factory)->Store:
    "K562 with KR weights + ENCODE CTCF ChIA-PET loops, log1p of the balanced map."
    return build(real_data, tmp_path_factory, 'K562_chr17_25kb_KR.chr17.cool', 'k562.encode.ctcf-chiapet.hg19.chr17.bedpe')

def centre_values(ds)->tuple[np.ndarray, np.ndarray]:
    "Centre pixel (25, 25) of every window of dataset `ds`: (positives, negatives)."
    y = ds.index.y.to_numpy()
    c = np.array([float(ds[k][0][0, 25, 25]) for k in range(len(ds))])
    return c[y == 1], c[y == 0]

def test_store_geometry(gm_oe):
    "hg19 chr17 at 25 kb: 3,248 bins; track samples of 5,000 rows (2 x 50 bins x 50 track bins of 500 bp) and no column."
    assert gm_oe.chromsizes == {'chr17': CHR17_HG19} and gm_oe.n_bins == {'chr17': 3_248} and gm_oe.res == 25_000
    assert gm_oe.manifest['hic']['assembly'] == 'hg19'
    hic, trk = gm_oe.window('chr17', 1_000, 1_040)
    assert hic.shape == (50, 50) and trk.shape == (5_000, 0) and gm_oe.cfg.trk_res == 500

def test_balance_recorded(gm_oe, k562_kr, real_data, tmp_path):
    "'auto' uses the KR weight column where there is one and raw counts where there is none; the manifest says which."
    assert (gm_oe.manifest['hic']['balance_asked'], gm_oe.manifest['hic']['norm']) == ('auto', 'none')
    assert (k562_kr.manifest['hic']['balance_asked'], k562_kr.manifest['hic']['norm']) == ('auto', 'weight')
    with pytest.raises(ValueError, match=r"no 'weight' normalisation; it has: none \(raw counts only\)"):
        build_store(real_file(real_data, D + 'K562_chr17_25kb_raw.chr17.cool'), None, tmp_path/'x', balance='weight')

def test_balanced_values_equal_cooler(k562_kr, real_data):
    "The stored map is log1p(cooler's balanced matrix x the manifest's scale), which keeps the raw total in the band."
    import cooler
    clr = cooler.Cooler(str(real_file(real_data, D + 'K562_chr17_25kb_KR.chr17.cool')))
    scale = k562_kr.manifest['chroms']['chr17']['norm_scale']
    assert 0 < scale and np.isfinite(scale)
    for i, j in ((1_500, 1_500), (1_500, 1_560), (2_000, 1_990)):
        want = np.log1p(np.nan_to_num(clr.matrix(balance=True)[i:i + 50, j:j + 50]) * scale)
        np.testing.assert_allclose(k562_kr.hic('chr17', i, j), want, rtol=2e-3, atol=2e-3)

def test_loop_table(gm_oe, k562_kr):
    "SOURCE.md: 928 GM12878 RAD21 and 1,448 K562 CTCF loops on chr17; most have a usable window at 25 kb."
    for st, n in ((gm_oe, 928), (k562_kr, 1_448)):
        m, tab = st.manifest['loops'], st.table('loops')
        assert m['total'] == len(tab) == n and m['file_report'] == {}
        assert m['ok'] > 0.9 * n
        assert (tab.a <= tab.b).all()                               # Heidari rows with anchor 2 first are reordered
        d = tab.b - tab.a
        assert set(tab.status[d < 1]) <= {'too_close'} and set(tab.status[d > 80]) <= {'too_far'}

@pytest.mark.parametrize('which', ['train', 'valid', 'test'])
def test_loops_brighter_than_negatives_oe(gm_oe, which):
    "GM12878, observed/expected: loop centres ~2-3x the local expectation, distance-matched negatives ~1."
    ds = make_datasets(gm_oe, 'loop_windows')[('train', 'valid', 'test').index(which)]
    pos, neg = centre_values(ds)
    assert len(pos) > 50 and len(neg) > 0.9 * len(pos)
    assert np.median(pos) > 2.0 and np.median(neg) < 1.3 and np.median(pos) > 2 * np.median(neg)

def test_loops_brighter_than_negatives_kr(k562_kr):
    "K562 KR, log1p: loop centres brighter than negatives drawn at the same distances."
    pos_tab = k562_kr.table('loops').query("status == 'ok'")
    neg = distance_matched_negatives(pos_tab[['chrom', 'a', 'b']], k562_kr.n_bins, seed=3, margin=25)
    assert len(neg) > 0.9 * len(pos_tab)
    assert not Counter((neg.b - neg.a).tolist()) - Counter((pos_tab.b - pos_tab.a).tolist())   # distances of positives only
    centre = lambda t: np.array([k562_kr.hic('chr17', a - 25, b - 25)[25, 25] for a, b in zip(t.a, t.b)])
    p, n = centre(pos_tab), centre(neg)
    assert np.mean(p) > np.mean(n) + 0.5                           # > e^0.5 = 1.6x in counts
    ratio = np.expm1(np.median(p)) / np.expm1(np.median(n))
    assert ratio > 1.8
