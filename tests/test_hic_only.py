"""A Hi-C-only store (no tracks): built from a map alone, read as (l, 0) tracks, used by the Hi-C loop model and
refused, with the reason, by everything that needs tracks."""
import json
import numpy as np, pytest
from helpers import run_cli
from mixhic.data import Split
from mixhic.store import Store, build_store

SPLIT = Split(by='chrom', train=('chr1',), valid=('chr2',), test=())

@pytest.fixture(scope='module')
def hic_store(synth, tmp_path_factory):
    return Store(build_store(synth['hic'], None, tmp_path_factory.mktemp('hs')/'hic.mixhic', loops=synth['loops'], progress=False))

def test_build_without_tracks(hic_store, synth_store):
    st, full = hic_store, Store(synth_store)
    assert st.tracks == [] and st.manifest['tracks'] == {}
    h, t = st.window('chr1', 10, 30)
    assert t.shape == (st.cfg.trk_len, 0)
    np.testing.assert_array_equal(h, full.window('chr1', 10, 30)[0])          # the same Hi-C as the store with tracks
    assert st.manifest['loops']['ok'] == full.manifest['loops']['ok'] > 0
    from mixhic.store import store_summary
    assert 'Hi-C-only' in store_summary(st)

def test_hic_loop_model_trains_and_predicts(hic_store, tmp_path):
    from mixhic.finetune import finetune, FinetuneCfg, load_task_model
    res = finetune(hic_store, tmp_path/'run', FinetuneCfg('loop_windows', 'hic', epochs=1, bs=16), SPLIT, plot=False, device='cpu')
    assert np.isfinite(res['metrics']['valid/mixhic']['auroc'])
    model, _ = load_task_model(tmp_path/'run'/'best.pt')
    assert model.cfg.n_tracks == 0 and model.modality == 'hic'
    out = tmp_path/'loops.bedpe'
    r = run_cli(['predict', 'loops', str(hic_store.path), '--model', str(tmp_path/'run'/'best.pt'), '--out', str(out), '--chroms', 'chr2',
                 '--threshold', '0', '--max-dist-bp', '100000'])
    assert r.returncode == 0, r.stderr
    assert len(out.read_text().splitlines()) >= 1
    r = run_cli(['predict', 'loops', str(hic_store.path), '--model', str(tmp_path/'run'/'best.pt'), '--out', str(tmp_path/'x.bedpe'),
                 '--chroms', 'chr2', '--anchors', 'signal'])
    assert r.returncode != 0 and 'Hi-C-only store' in r.stderr and not (tmp_path/'x.bedpe').exists()

def test_what_needs_tracks_says_so(hic_store, tmp_path):
    from mixhic.finetune import finetune, FinetuneCfg
    from mixhic.pretrain import pretrain, PretrainCfg
    with pytest.raises(ValueError, match="n_tracks=0.*use modality 'hic'"):
        finetune(hic_store, tmp_path/'a', FinetuneCfg('loop_windows', 'bimodal', epochs=1), SPLIT, plot=False, device='cpu')
    with pytest.raises(ValueError, match='pre-training pairs Hi-C with tracks'):
        pretrain(hic_store, tmp_path/'b', PretrainCfg(epochs=1), SPLIT, plot=False, device='cpu')
    assert not (tmp_path/'a'/'best.pt').exists()

def test_cli_build_without_tracks(synth, tmp_path):
    r = run_cli(['build', '--hic', str(synth['hic']), '--loops', str(synth['loops']), '--out', str(tmp_path/'h.mixhic'), '--no-progress'])
    assert r.returncode == 0, r.stderr
    assert 'Hi-C-only store' in r.stderr and Store(tmp_path/'h.mixhic').tracks == []
