"""Datasets and loaders over a store: samples equal the store's windows, repeatable negatives, clean evaluation data.

SPEC defect 5 of the reference: validation and test data got the training noise and evaluation loaders shuffled.
"""
from __future__ import annotations
import numpy as np, pandas as pd, pytest, torch
from mixhic.store import Store, window_ok
from mixhic.data import Split, WindowDataset, window_index, make_datasets, get_dls, split_of
from mixhic.annot import distance_matched_negatives

# the small synthetic genome has too few loops for 15 % blocks: split loops by chromosome (chr1 train, chr2 valid)
BY_CHROM = Split(by='chrom', train=('chr1',), valid=('chr2',), test=('chr3',))

@pytest.fixture(scope='module')
def st(synth_store)->Store: return Store(synth_store)

def test_sample_equals_store_window(st):
    idx = pd.DataFrame({'store': [0, 0, 0], 'chrom': ['chr1', 'chr1', 'chr2'], 'i': [100, 120, 7], 'j': [100, 180, 3]})
    ds = WindowDataset([st], idx)
    assert len(ds) == 3
    for k, r in idx.iterrows():
        hic, trk = ds[k]
        want_hic, want_trk = st.window(r.chrom, r.i, r.j)
        assert hic.dtype == trk.dtype == torch.float32 and tuple(hic.shape) == (1, 50, 50) and tuple(trk.shape) == (5000, 2)
        np.testing.assert_array_equal(hic[0].numpy(), want_hic)
        np.testing.assert_array_equal(trk.numpy(), want_trk)

@pytest.mark.parametrize('kind', ['pretrain', 'loop_windows', 'expr'])   # loop calling's samples: 14a
def test_every_kind_samples_equal_store(st, kind):
    for ds in make_datasets(st, kind):
        for k in range(min(len(ds), 5)):
            item, r = ds[k], ds.index.iloc[k]
            hic, trk = st.window(r.chrom, int(r.i), int(r.j))
            np.testing.assert_array_equal(item[0][0].numpy(), hic); np.testing.assert_array_equal(item[1].numpy(), trk)
            if kind != 'pretrain': assert float(item[2]) == pytest.approx(r.y)

def test_expression_targets(st):
    "value: the gene table's expression at a window centred on the TSS bin; cage: the store's CAGE profile."
    g = st.table('genes').query("status == 'ok'")
    tr = make_datasets(st, 'expr')[0]
    assert len(tr) > 0
    r = tr.index.iloc[0]
    row = g[(g.chrom == r.chrom) & (g.bin - 25 == r.i)]
    assert r.y in row.value.tolist()
    trc = make_datasets(st, 'expr', target='cage')[0]
    hic, trk, y = trc[0]
    r = trc.index.iloc[0]
    assert tuple(y.shape) == (50,)
    np.testing.assert_array_equal(y.numpy(), st.cage(r.chrom, int(r.i)))

def test_loop_negatives_are_repeatable(st):
    a = [ds.index for ds in make_datasets(st, 'loop_windows', BY_CHROM, seed=0)]
    b = [ds.index for ds in make_datasets(st, 'loop_windows', BY_CHROM, seed=0)]
    c = [ds.index for ds in make_datasets(st, 'loop_windows', BY_CHROM, seed=1)]
    assert len(a[0]) > 0 and len(a[1]) > 0
    for x, y in zip(a, b): pd.testing.assert_frame_equal(x, y)
    assert any(len(x) and not x.equals(z) for x, z in zip(a, c))      # another seed draws other negatives
    pos = pd.DataFrame({'chrom': ['chr1'] * 3, 'a': [100, 200, 300], 'b': [120, 260, 400]})
    n1 = distance_matched_negatives(pos, {'chr1': 600}, ratio=2, seed=5)
    n2 = distance_matched_negatives(pos, {'chr1': 600}, ratio=2, seed=5)
    pd.testing.assert_frame_equal(n1, n2)
    assert sorted((n1.b - n1.a).tolist()) == [20, 20, 60, 60, 100, 100]

def test_loop_negatives_are_distance_matched_and_clean(st):
    "Negatives have the positives' distances, avoid every listed loop, lie in the same split and pass the filters."
    allpos = st.table('loops')
    for which, ds in zip(('train', 'valid'), make_datasets(st, 'loop_windows', BY_CHROM, neg_ratio=2)):
        ix = ds.index
        pos, neg = ix[ix.y == 1], ix[ix.y == 0]
        ok = allpos[(allpos.status == 'ok') & (allpos.chrom == {'train': 'chr1', 'valid': 'chr2'}[which])]
        assert len(pos) == len(ok) > 0 and len(neg) > 0
        assert len(neg) <= 2 * len(pos)
        assert set((neg.j - neg.i).tolist()) <= set((pos.j - pos.i).tolist())
        keys = set(zip(allpos.chrom, allpos.a - 25, allpos.b - 25))
        assert not keys & set(zip(neg.chrom, neg.i, neg.j))
        assert (split_of(st, neg.chrom, np.minimum(neg.i, neg.j), np.maximum(neg.i, neg.j) + 50, BY_CHROM) == which).all()
        assert all(window_ok(st.hic(r.chrom, r.i, r.j)) == 'ok' for r in neg.itertuples())

def test_noise_only_in_training(st):
    tr, va, te = make_datasets(st, 'pretrain', noise_std=0.5)
    assert tr.noise_std == 0.5 and va.noise_std == 0 and te.noise_std == 0
    r = tr.index.iloc[0]
    assert not np.array_equal(tr[0][1].numpy(), st.trk(r.chrom, int(r.i), int(r.j)))   # the noise is there in training
    for ds in (va, te):
        r = ds.index.iloc[0]
        np.testing.assert_array_equal(ds[0][1].numpy(), st.trk(r.chrom, int(r.i), int(r.j)))

def test_valid_loader_keeps_order_and_adds_no_noise(st):
    dls = get_dls(st, 'loop_windows', bs=4, noise_std=0.5, device='cpu', split=BY_CHROM)
    assert len(dls.valid_ds) > 4                                     # more than one batch
    passes = [[(h.clone(), t.clone(), y.clone()) for h, t, y in dls.valid] for _ in range(2)]
    assert len(passes[0]) == len(passes[1]) > 0
    for (h1, t1, y1), (h2, t2, y2) in zip(*passes):
        assert torch.equal(h1, h2) and torch.equal(t1, t2) and torch.equal(y1, y2)
    order = dls.valid_ds.index
    h, t, y = passes[0][0]
    for k in range(len(y)):                                          # the first batch is the index's first rows, unchanged
        r = order.iloc[k]
        hic, trk = st.window(r.chrom, int(r.i), int(r.j))
        np.testing.assert_array_equal(h[k, 0].numpy(), hic); np.testing.assert_array_equal(t[k].numpy(), trk)
        assert float(y[k]) == r.y

def test_train_loader_shuffles(st):
    dls = get_dls(st, 'pretrain', bs=8, device='cpu', num_workers=0)
    assert len(dls.train_ds) > 16
    torch.manual_seed(0)
    first = [h.clone() for h, t, _ in dls.train]
    second = [h.clone() for h, t, _ in dls.train]
    assert not all(torch.equal(a, b) for a, b in zip(first, second))

def test_stores_with_different_tracks_cannot_share_a_dataset(st, synth, tmp_path):
    from mixhic.store import build_store
    one = Store(build_store(synth['hic'], {'atac': synth['atac']}, tmp_path/'one.mixhic', chroms=['chr2'], progress=False))
    idx = pd.DataFrame({'store': [0], 'chrom': ['chr2'], 'i': [0], 'j': [0]})
    with pytest.raises(ValueError, match='different numbers of tracks'): WindowDataset([st, one], idx)

def test_window_index_arguments(st):
    with pytest.raises(ValueError, match="unknown task 'tads'"): window_index([st], 'tads')
    with pytest.raises(ValueError, match="split must be 'train', 'valid' or 'test'"): window_index([st], 'pretrain', 'val')
    with pytest.raises(ValueError, match="Split.by must be"): Split(by='random')
    with pytest.raises(ValueError, match="block_frac must be three non-negative shares"): Split(block_frac=(0.5, 0.5))

def test_split_refuses_a_chromosome_in_two_splits():
    "A chromosome that is both validation and test (or train and test) would leak; the error names it (issue 17)."
    with pytest.raises(ValueError, match=r"chromosome\(s\) chr3 are both valid and test"): Split(valid=('chr3',), test=('chr3',))
    with pytest.raises(ValueError, match=r"chromosome\(s\) chr1 are both test and train"):
        Split.from_dict({'by': 'chrom', 'train': ['chr1', 'chr2'], 'valid': ['chr3'], 'test': ['chr1']})   # a saved split too
    assert Split(valid=('chr3',), test=()).of_chrom('chr3') == 'valid'       # --valid-chroms alone: no test chromosomes
    assert Split(valid='chr2', test='chr3').test == ('chr3',)                 # one name, not its letters

def test_chromosome_split_of_a_human_genome():
    "SPEC: valid chr10, chr11; test chr3, chr13, chr17; train the other autosomes; X, Y, M in no split."
    sp = Split()
    assert [sp.of_chrom(c) for c in ('chr10', '11', 'chr3', 'chr13', 'chr17', 'chr1', 'chr22', 'chrX', 'chrM')] == \
           ['valid', 'valid', 'test', 'test', 'test', 'train', 'train', None, None]
    assert sp.mode([f'chr{k}' for k in range(1, 23)]) == 'chrom' and sp.mode(['chr1', 'chr2']) == 'block'

def test_samples_are_writable_copies(st):
    "Arrays handed out are copies, never read-only views of the memory-mapped store (torch warns on those)."
    c, i = 'chr1', int(st.diag().i.iloc[0])
    for a in (*st.window(c, i, i), st.cage(c, i)):
        assert a.flags.writeable and not np.shares_memory(a, st.band(c)) and a.dtype == np.float32
