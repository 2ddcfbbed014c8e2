"""Real data: IMR-90 hg19 chr21 at 10 kb, where only 28.0-30.3 Mb holds data (plotgardenerData, Rao 2014 + ENCODE).

The map is already normalised (no weight column), the tracks are CTCF and H3K27ac ChIP-seq, and the 16 HiCCUPS loops
include two that reach past 30.3 Mb. The store is built with the console script (`--res 10000`), as a user would.
"""
from __future__ import annotations
import numpy as np, pytest
from helpers import run_cli
from conftest import real_file
from mixhic.store import Store
from mixhic.data import Split, block_bounds, split_of, window_index, make_datasets

D = 'gm12878_imr90_hg19_chr21/derived/'
LO, HI = 2_800, 3_031          # bins with data: 28,000,000 .. the bin starting at 30,300,000 (231 bins of 10 kb)

@pytest.fixture(scope='module')
def st(real_data, tmp_path_factory)->Store:
    out = tmp_path_factory.mktemp('chr21')/'imr90.mixhic'
    r = run_cli(['build', '--hic', real_file(real_data, D + 'IMR90_HiC_10kb.cool'), '--res', '10000',
                 '--track', f"ctcf={real_file(real_data, D + 'IMR90_ChIP_CTCF_signal.bw')}",
                 '--track', f"h3k27ac={real_file(real_data, D + 'IMR90_ChIP_H3K27ac_signal.bw')}",
                 '--loops', real_file(real_data, D + 'IMR90_DNAloops_pairs.bedpe'), '--out', out, '--no-progress'])
    assert r.returncode == 0, r.stderr
    return Store(out)

@pytest.fixture(scope='module')
def clr(real_data):
    import cooler
    return cooler.Cooler(str(real_file(real_data, D + 'IMR90_HiC_10kb.cool')))

def test_store(st):
    m = st.manifest
    assert st.res == 10_000 and st.chromsizes == {'chr21': 48_129_895} and st.n_bins == {'chr21': 4_813}
    assert (m['hic']['norm'], m['hic']['assembly']) == ('none', 'hg19')        # no weights: 'auto' keeps the values
    assert m['chroms']['chr21']['covered_bp'] == {'ctcf': 2_300_001, 'h3k27ac': 2_300_001}   # 27,999,999-30,300,000
    assert m['skipped'] == {}

def test_diagonal_windows_lie_on_the_data(st):
    "Only windows that overlap the 2.3-Mb data square pass the 10 % filter; the rest of chr21 is dropped as sparse."
    d = st.diag()
    assert len(d) == st.manifest['diag']['ok'] > 0
    assert st.manifest['diag']['sparse'] == st.manifest['diag']['total'] - len(d)
    # >= 250 non-zero pixels need >= 16 x 16 bins of the data square inside the window
    assert (d.i + 50 >= LO + 16).all() and (d.i <= HI - 16).all()

def test_loop_windows(st, clr):
    "16 loops; the one 2.1 Mb long is past the 2-Mb limit; every usable window has the loop pixel at its centre."
    tab = st.table('loops')
    assert len(tab) == 16 and st.manifest['loops']['total'] == 16
    assert tab.status.value_counts().to_dict() == {'ok': 15, 'too_far': 1}
    far = tab[tab.status == 'too_far'].iloc[0]
    assert (far.start1, far.start2, far.b - far.a) == (28_210_000, 30_310_000, 210)
    mat = clr.matrix(balance=False)
    for r in tab[tab.status == 'ok'].itertuples():
        hic = st.hic('chr21', r.a - 25, r.b - 25)
        assert hic[25, 25] == pytest.approx(np.log1p(mat[r.a, r.b]), rel=2e-3, abs=2e-3)
    # the other loop reaching past 30.3 Mb (30,310,000): its window is usable, but its centre pixel has no data
    past = tab[(tab.end2 > 30_300_000) & (tab.status == 'ok')]
    assert len(past) == 1 and st.hic('chr21', past.a.iloc[0] - 25, past.b.iloc[0] - 25)[25, 25] == 0

def test_loops_brighter_than_their_surroundings(st, clr):
    "HiCCUPS loops are local maxima: each centre beats the mean of its window at the same distance band."
    tab = st.table('loops').query("status == 'ok' and b <= 3030")
    ratios = []
    for r in tab.itertuples():
        hic = np.expm1(st.hic('chr21', r.a - 25, r.b - 25).astype(np.float64))
        ratios.append(hic[25, 25] / np.mean([hic[25 + k, 25 + k] for k in range(-10, 11) if abs(k) > 3]))
    assert np.median(ratios) > 1.5

def test_default_block_split_is_not_silently_empty(st):
    """Default shares (0.7, 0.15, 0.15) of a 287-bin data extent make 43-bin valid and test blocks, narrower than one
    50-bin window. The split must then say so (a ValueError naming the chromosome and the block), not hand back empty
    validation and test sets that training would run on without a word."""
    try: tr, va, te = make_datasets(st, 'pretrain')
    except ValueError as e:
        assert 'chr21' in str(e) and 'block' in str(e); return
    assert len(tr) > 0 and len(va) > 0 and len(te) > 0, f"train {len(tr)}, valid {len(va)}, test {len(te)} windows"

SPLIT = Split(block_frac=(0.4, 0.3, 0.3))

def test_block_split_inside_the_data_extent(st):
    "Blocks tile the data extent (not the whole 48-Mb chromosome) and every split's windows sit inside their block."
    lo, b1, b2, hi = block_bounds(st, 'chr21', SPLIT)
    assert LO - 50 <= lo < b1 < b2 < hi <= HI + 50
    assert (lo, hi) == (int(st.diag().i.min()), int(st.diag().i.max()) + 50)
    seen = []
    for which, (x, y) in zip(('train', 'valid', 'test'), ((lo, b1), (b1, b2), (b2, hi))):
        idx = window_index([st], 'pretrain', which, SPLIT)
        assert len(idx) > 0, which
        assert (idx.i >= x).all() and (idx.i + 50 <= y).all(), which
        seen += idx.i.tolist()
    assert len(seen) == len(set(seen))                                # no window in two splits
    assert set(seen) < set(st.diag().i)                               # windows straddling two blocks are left out
    d = st.diag()
    sp = split_of(st, d.chrom, d.i, d.i + 50, SPLIT)
    straddle = ((d.i < b1) & (d.i + 50 > b1)) | ((d.i < b2) & (d.i + 50 > b2))
    assert (sp[straddle.to_numpy()] == '').all() and (sp[~straddle.to_numpy()] != '').all()
