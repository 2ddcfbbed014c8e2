"""Bad input gets a clear error and loses nothing (issue section 5), through the Python API.

Every test starts from the valid tiny inputs of `conftest.tiny` and breaks one thing. The error must be the documented
type (ValueError / FileNotFoundError) and name what is wrong (file, line, chromosome, lengths), and an older store at
the output path must survive a failed build.
"""
from __future__ import annotations
import json, os, shutil
from pathlib import Path
import numpy as np, pytest
from helpers import write_cool, write_bigwig, write_text, run_cli
from mixhic.hic import open_hic
from mixhic.tracks import open_bigwig
from mixhic.annot import read_bedpe, read_genes
from mixhic.store import build_store, Store, merge_stores

def build(tiny, out, **kw):
    "Build a store of the tiny inputs (two tracks), overriding any argument with `kw`."
    args = dict(hic=tiny['cool'], tracks={'atac': tiny['atac'], 'dnase': tiny['dnase']}, out=out, progress=False)
    return build_store(**{**args, **kw})

@pytest.fixture
def old_store(tiny, tmp_path)->tuple[Path, dict]:
    "A valid store at tmp_path/'st.mixhic' and its manifest: failed builds to this path must leave it as it is."
    p = build(tiny, tmp_path/'st.mixhic', tracks={'atac': tiny['atac']})
    return p, json.loads((p/'manifest.json').read_text())

def assert_intact(old_store):
    "The old store still opens, with its old manifest, and no temporary folder is left next to it."
    p, man = old_store
    st = Store(p)
    assert st.manifest == man
    assert st.tracks == ['atac']
    assert st.hic('chr1', 0, 0).shape == (50, 50)
    assert not [q.name for q in p.parent.iterdir() if '.tmp-' in q.name or '.old-' in q.name]

# ---------------------------------------------------------------------------------------------------------------
# missing files

@pytest.mark.parametrize('which', ['hic', 'track', 'loops', 'genes'])
def test_missing_file_names_the_path(tiny, tmp_path, old_store, which):
    gone = tmp_path/'no_such_dir'/f'missing.{which}'
    kw = {'hic': {'hic': gone}, 'track': {'tracks': {'atac': gone}}, 'loops': {'loops': gone}, 'genes': {'genes': gone}}[which]
    with pytest.raises(FileNotFoundError, match='not found') as e: build(tiny, old_store[0], **kw)
    assert str(gone) in str(e.value)
    assert_intact(old_store)

def test_missing_file_readers(tmp_path, tiny):
    gone = tmp_path/'gone'
    with pytest.raises(FileNotFoundError, match=f"Hi-C map not found: {gone}"): open_hic(gone)
    with pytest.raises(FileNotFoundError, match=f"track atac not found: {gone}"): open_bigwig(gone, 'track atac')
    with pytest.raises(FileNotFoundError, match=f"loops file not found: {gone}"): read_bedpe(gone, tiny['sizes'])
    with pytest.raises(FileNotFoundError, match=f"gene table not found: {gone}"): read_genes(gone, tiny['sizes'])

# ---------------------------------------------------------------------------------------------------------------
# damaged or wrong Hi-C files

def test_truncated_real_cooler(k562, tmp_path):
    "Half of a real .cool: a ValueError naming the file, not an h5py OSError."
    p = tmp_path/'half.cool'
    shutil.copy(k562['cool'], p); os.truncate(p, p.stat().st_size // 2)
    with pytest.raises(ValueError, match='truncated or damaged') as e: open_hic(p)
    assert str(p) in str(e.value)

def test_truncated_cooler_build_keeps_old_store(tiny, tmp_path, old_store):
    p = tmp_path/'half.cool'
    shutil.copy(tiny['cool'], p); os.truncate(p, p.stat().st_size // 2)
    with pytest.raises(ValueError, match=str(p)): build(tiny, old_store[0], hic=p)
    assert_intact(old_store)

def test_hdf5_that_is_not_a_cooler(tmp_path):
    import h5py
    p = tmp_path/'random.h5'
    with h5py.File(p, 'w') as f: f['x'] = np.random.default_rng(0).random((10, 10))
    with pytest.raises(ValueError, match="is an HDF5 file but not a cooler") as e: open_hic(p)
    assert str(p) in str(e.value)

def test_text_file_is_not_a_map(tmp_path):
    p = write_text(tmp_path/'map.cool', 'chr1\t0\t5000\t1')
    with pytest.raises(ValueError, match='neither a cooler') as e: open_hic(p)
    assert str(p) in str(e.value)
    with pytest.raises(ValueError, match='is a directory'): open_hic(tmp_path)

@pytest.fixture(scope='module')
def mcool(tmp_path_factory)->Path:
    "A .mcool with resolutions 5,000 and 10,000 bp (one 1-Mb chromosome)."
    p = tmp_path_factory.mktemp('mcool')/'x.mcool'
    write_cool(f'{p}::resolutions/5000', {'chr1': 1_000_000}, res=5_000)
    write_cool(f'{p}::resolutions/10000', {'chr1': 1_000_000}, res=10_000)
    return p

def test_mcool_lists_resolutions(mcool):
    with pytest.raises(ValueError, match=r"has no 25,000 bp resolution; it has: 5,000, 10,000 bp"): open_hic(mcool, 25_000)
    with pytest.raises(ValueError, match=r"several resolutions \(5000, 10000 bp\)"): open_hic(mcool)

@pytest.mark.parametrize('res', [5_000, 10_000])
def test_mcool_resolution_that_exists_opens(mcool, res):
    src = open_hic(mcool, res)
    assert (src.res, src.group, src.chromsizes) == (res, f'/resolutions/{res}', {'chr1': 1_000_000})
    assert src.n_bins('chr1') == 1_000_000 // res

# a .cool opened at another resolution than its own: 01_hic

def test_balance_the_map_lacks(tiny):
    with pytest.raises(ValueError, match=r"no 'KR' normalisation; it has: none \(raw counts only\)"):
        build(tiny, '/nonexistent/never-written', balance='KR')

# ---------------------------------------------------------------------------------------------------------------
# tracks that do not fit the map

@pytest.fixture
def chr1_only_track(tiny, tmp_path)->Path:
    "A bigWig that lacks chr2 of the tiny map."
    return write_bigwig(tmp_path/'chr1only.bw', {'chr1': tiny['sizes']['chr1']})

def test_track_lacking_a_chromosome(tiny, chr1_only_track, old_store):
    with pytest.raises(ValueError, match=r"track dnase \(.*chr1only\.bw\) has no chromosome chr2 of the Hi-C map"):
        build(tiny, old_store[0], tracks={'atac': tiny['atac'], 'dnase': chr1_only_track})
    assert_intact(old_store)

def test_track_lacking_a_chromosome_skip(tiny, chr1_only_track, tmp_path):
    out = build(tiny, tmp_path/'skip.mixhic', tracks={'atac': tiny['atac'], 'dnase': chr1_only_track}, errors='skip')
    st = Store(out)
    assert st.chroms == ['chr1']
    assert st.manifest['skipped'] == {'chr2': 'missing from track dnase'}
    with pytest.raises(ValueError, match="no chromosome 'chr2'"): st.window('chr2', 0, 0)

def test_track_chromosome_names_reconciled(tiny, tmp_path):
    "A bigWig writing '1', '2' (Ensembl style) serves a map writing 'chr1', 'chr2'."
    bw = write_bigwig(tmp_path/'ensembl.bw', {'1': tiny['sizes']['chr1'], '2': tiny['sizes']['chr2']}, value=3.0)
    st = Store(build(tiny, tmp_path/'names.mixhic', tracks={'atac': bw}))
    assert st.chroms == ['chr1', 'chr2']
    np.testing.assert_allclose(st.trk('chr2', 10, 10), np.log2(1 + 3.0), rtol=1e-3)

def test_hg19_track_against_hg38_map(k562, tmp_path):
    "A bigWig whose chr22 has the hg19 length (51,304,566) against the hg38 K562 map (50,818,468): both lengths named."
    bw = write_bigwig(tmp_path/'hg19.bw', {'chr22': 51_304_566}, step=1_000_000)
    with pytest.raises(ValueError) as e:
        build_store(k562['cool'], {'dnase': bw}, tmp_path/'never.mixhic', progress=False)
    msg = str(e.value)
    assert '51,304,566' in msg and '50,818,468' in msg and 'hg19.bw' in msg and 'assembly' in msg
    assert not (tmp_path/'never.mixhic').exists()

# match_chroms: names matched across styles, the missing ones listed, a length mismatch refused: 00_core

def test_truncated_bigwig(tiny, tmp_path):
    "Half a bigWig: a ValueError naming the track, not pyBigWig's RuntimeError (which the CLI would not catch)."
    p = tmp_path/'half.bw'
    shutil.copy(tiny['atac'], p); os.truncate(p, p.stat().st_size // 2)
    with pytest.raises(ValueError) as e: open_bigwig(p, 'track atac')
    assert 'track atac' in str(e.value) and str(p) in str(e.value)

def test_not_a_bigwig(tiny, tmp_path):
    p = write_text(tmp_path/'atac.bedgraph', 'chr1\t0\t100\t1.0')
    with pytest.raises(ValueError, match=r"track atac .*atac\.bedgraph is not a bigWig file"): open_bigwig(p, 'track atac')

# ---------------------------------------------------------------------------------------------------------------
# tracks without data
#
# Today `bin_track` reads a bigWig with no entries as all zeros and `build_store` writes a store whose track is
# silently 0 everywhere (the manifest's `covered_bp` is 0, nothing else says so). A track that holds no data on any
# built chromosome is almost always a wrong file (other assembly's names in the header only, a failed conversion):
# it should be a ValueError naming the track.

def test_track_without_entries(tiny, tmp_path, old_store):
    empty = write_bigwig(tmp_path/'empty.bw', tiny['sizes'], chroms=[])   # header only: both chromosomes, no entries
    with pytest.raises(ValueError) as e:
        build(tiny, old_store[0], tracks={'atac': tiny['atac'], 'nodata': empty})
    assert 'nodata' in str(e.value) and str(empty) in str(e.value)
    assert_intact(old_store)

def test_track_with_nan_values(tiny, tmp_path):
    """A bigWig whose entries are all NaN: `mixhic build` must exit 1 with an error naming the track.

    Run in a subprocess: pyBigWig's `header()` crashes the interpreter (SIGSEGV) on such a file, and `bin_track` calls it.
    """
    import pyBigWig
    p = tmp_path/'nan.bw'
    bw = pyBigWig.open(str(p), 'w'); bw.addHeader(list(tiny['sizes'].items()))
    for c, n in tiny['sizes'].items(): bw.addEntries(c, 0, values=[float('nan')] * (n // 10_000), span=10_000, step=10_000)
    bw.close()
    r = run_cli(['build', '--hic', tiny['cool'], '--track', f'nantrk={p}', '--out', tmp_path/'nan.mixhic', '--no-progress'])
    assert r.returncode == 1, f"exit status {r.returncode} (negative = killed by a signal); stderr: {r.stderr[-2000:]}"
    assert 'mixhic build: error:' in r.stderr and 'nantrk' in r.stderr
    assert not (tmp_path/'nan.mixhic').exists()

def test_track_partly_without_data_is_recorded(tiny, tmp_path):
    "A track with data on chr1 only (chr2 in its header) builds; the manifest records 0 bp covered on chr2."
    part = write_bigwig(tmp_path/'part.bw', tiny['sizes'], chroms=['chr1'])
    st = Store(build(tiny, tmp_path/'part.mixhic', tracks={'atac': tiny['atac'], 'part': part}))
    cov = {c: st.manifest['chroms'][c]['covered_bp']['part'] for c in st.chroms}
    assert cov == {'chr1': tiny['sizes']['chr1'], 'chr2': 0}
    assert np.all(st.trk('chr2', 0, 0)[:, 1] == 0)

# ---------------------------------------------------------------------------------------------------------------
# loops (BEDPE)

BEDPE = """
    # loops of the tiny map
    chr1\t300000\t305000\tchr1\t500000\t505000
    chr1\t400000\t405000\tchr1\t1200000\t1205000
    chr1\t100000\t105000\tchr2\t200000\t205000
    chr2\t200000\t205000\tchr2\t350000\t355000
"""

def test_bedpe_anchor_past_the_end(tiny, tmp_path):
    p = write_text(tmp_path/'loops.bedpe', BEDPE)
    with pytest.raises(ValueError) as e: read_bedpe(p, tiny['sizes'])
    msg = str(e.value)
    assert str(p) in msg and 'line 3' in msg and 'past the end of chr1 (1,000,000 bp)' in msg and '1,205,000' in msg

def test_bedpe_anchors_on_two_chromosomes(tiny, tmp_path):
    p = write_text(tmp_path/'trans.bedpe', BEDPE.replace('chr1\t400000\t405000\tchr1\t1200000\t1205000\n', ''))
    with pytest.raises(ValueError) as e: read_bedpe(p, tiny['sizes'])
    msg = str(e.value)
    assert str(p) in msg and 'line 3' in msg and 'anchors on two chromosomes (chr1, chr2)' in msg

def test_bedpe_skip_drops_and_counts(tiny, tmp_path):
    p = write_text(tmp_path/'loops.bedpe', BEDPE)
    df, report = read_bedpe(p, tiny['sizes'], errors='skip')
    assert report == {'past_end': 1, 'trans': 1}
    assert df[['chrom', 'start1', 'start2']].values.tolist() == [['chr1', 300000, 500000], ['chr2', 200000, 350000]]
    st = Store(build(tiny, tmp_path/'skip.mixhic', loops=p, errors='skip'))
    assert st.manifest['loops']['file_report'] == {'past_end': 1, 'trans': 1}
    assert st.manifest['loops']['total'] == 2 and len(st.table('loops')) == 2

def test_bedpe_error_through_build_keeps_old_store(tiny, tmp_path, old_store):
    p = write_text(tmp_path/'loops.bedpe', BEDPE)
    with pytest.raises(ValueError, match='line 3'): build(tiny, old_store[0], loops=p)
    assert_intact(old_store)

def test_bedpe_anchor_order_and_unknown_chromosome(tiny, tmp_path):
    "Anchors given downstream-first are swapped; a chromosome the map lacks is named."
    p = write_text(tmp_path/'swap.bedpe', 'chr1\t500000\t505000\tchr1\t300000\t305000\t7.5')
    df, _ = read_bedpe(p, tiny['sizes'])
    assert df.iloc[0][['start1', 'end1', 'start2', 'end2', 'score']].tolist() == [300000, 305000, 500000, 505000, 7.5]
    p = write_text(tmp_path/'chr9.bedpe', 'chr9\t500000\t505000\tchr9\t300000\t305000')
    with pytest.raises(ValueError, match=r"line 1: chromosome chr9 is not in the Hi-C map"): read_bedpe(p, tiny['sizes'])

@pytest.mark.parametrize('text', ['', '\n\n', '# a comment only\n', 'chrom1\tstart1\tend1\tchrom2\tstart2\tend2\n'])
def test_empty_loops_file(tiny, tmp_path, text):
    p = tmp_path/'empty.bedpe'; p.write_text(text)
    with pytest.raises(ValueError, match=r"holds no loops") as e: read_bedpe(p, tiny['sizes'])
    assert str(p) in str(e.value)
    with pytest.raises(ValueError, match=r"holds no loops"): build(tiny, tmp_path/'never.mixhic', loops=p)
    assert not (tmp_path/'never.mixhic').exists()

def test_bedpe_too_few_columns(tiny, tmp_path):
    p = write_text(tmp_path/'bed.bedpe', 'chr1\t300000\t305000\tchr1')
    with pytest.raises(ValueError, match=r"line 1: expected BEDPE with at least 6 columns, found 4"): read_bedpe(p, tiny['sizes'])

def test_bedpe_short_row_names_its_line(tiny, tmp_path):
    "The error names the row that is short (line 3), not the first data line."
    p = write_text(tmp_path/'short.bedpe', """
        chr1\t300000\t305000\tchr1\t500000\t505000
        chr1\t310000\t315000\tchr1\t510000\t515000
        chr1\t320000\t325000\tchr1
        chr2\t200000\t205000\tchr2\t350000\t355000""")
    with pytest.raises(ValueError, match=r"line 3: expected BEDPE with at least 6 columns, found 4"): read_bedpe(p, tiny['sizes'])

def test_bedpe_one_word_line(tiny, tmp_path):
    "A file whose first line is one word (not BEDPE at all): a ValueError naming the file, not an IndexError."
    p = write_text(tmp_path/'word.bedpe', 'loops')
    with pytest.raises(ValueError) as e: read_bedpe(p, tiny['sizes'])
    assert str(p) in str(e.value)

# 'NA' for a coordinate, refused naming its line (never a loop at -2**63, NaN cast to int64): 03_annot

# ---------------------------------------------------------------------------------------------------------------
# gene tables

GENES = """
    chrom\ttss\tname\texpression
    chr1\t400000\tA\t3.5
    chrUn_gl000220\t1000\tB\t1.0
    chr2\t300000\tC\t12.0
"""

def test_gene_table_unknown_chromosome(tiny, tmp_path):
    p = write_text(tmp_path/'genes.tsv', GENES)
    with pytest.raises(ValueError, match=r"1 genes on chromosomes not in the Hi-C map \(chrUn_gl000220\)") as e:
        read_genes(p, tiny['sizes'])
    assert str(p) in str(e.value)

def test_gene_table_unknown_chromosome_skip(tiny, tmp_path):
    p = write_text(tmp_path/'genes.tsv', GENES)
    df, report = read_genes(p, tiny['sizes'], errors='skip')
    assert report == {'unknown_chrom': 1}
    assert df[['chrom', 'tss', 'name', 'value']].values.tolist() == [['chr1', 400000, 'A', 3.5], ['chr2', 300000, 'C', 12.0]]

def test_gene_table_tss_past_the_end(tiny, tmp_path):
    p = write_text(tmp_path/'genes.tsv', 'chrom\ttss\nchr2\t700000')
    with pytest.raises(ValueError, match=r"TSS 700,000 of chr2 is outside the chromosome \(0..600,000\)"): read_genes(p, tiny['sizes'])

def test_gene_table_without_tss_column(tiny, tmp_path):
    p = write_text(tmp_path/'genes.tsv', 'chrom\tposition\nchr1\t1000')
    with pytest.raises(ValueError, match=r"cannot find the TSS column among chrom, position"): read_genes(p, tiny['sizes'])

def test_gene_table_empty_file(tiny, tmp_path):
    p = tmp_path/'genes.tsv'; p.write_text('')
    with pytest.raises(ValueError) as e: read_genes(p, tiny['sizes'])
    assert str(p) in str(e.value)

# ---------------------------------------------------------------------------------------------------------------
# reading windows and stores

@pytest.fixture(scope='module')
def tiny_store(tiny, tmp_path_factory)->Store:
    return Store(build(tiny, tmp_path_factory.mktemp('tiny_store')/'tiny.mixhic'))

@pytest.mark.parametrize('i,j', [(71, 71), (0, 80), (-1, 10), (10, -1)])
def test_window_past_the_chromosome_end(tiny_store, i, j):
    "chr2 has 120 bins of 5 kb: a 50-bin window must start at bins 0..70."
    with pytest.raises(ValueError) as e: tiny_store.window('chr2', i, j)
    msg = str(e.value)
    assert 'chr2' in msg and 'bins 0..119' in msg and '600,000 bp' in msg

def test_window_bp_past_the_end(tiny_store):
    with pytest.raises(ValueError, match=r"chr1 has bins 0..199"): tiny_store.window_bp('chr1', 900_000, 990_000)
    hic, trk = tiny_store.window_bp('chr1', 500_000, 600_000)
    assert hic.shape == (50, 50) and trk.shape == (5000, 2)

def test_window_unknown_chromosome(tiny_store):
    with pytest.raises(ValueError, match=r"no chromosome 'chr3'; the store has chr1, chr2"): tiny_store.hic('chr3', 0, 0)

def test_window_at_the_last_bins_works(tiny_store):
    hic, trk = tiny_store.window('chr2', 70, 70)
    assert hic.shape == (50, 50) and np.isfinite(hic).all()

def test_not_a_store(tmp_path):
    (tmp_path/'folder').mkdir(); (tmp_path/'folder'/'hic.npy').write_bytes(b'')
    with pytest.raises(ValueError, match='not a mixhic store'): Store(tmp_path/'folder')
    with pytest.raises(FileNotFoundError, match='store not found'): Store(tmp_path/'nowhere')

def test_damaged_or_newer_manifest(tiny_store, tmp_path):
    p = tmp_path/'copy.mixhic'; shutil.copytree(tiny_store.path, p)
    man = json.loads((p/'manifest.json').read_text())
    (p/'manifest.json').write_text(json.dumps({**man, 'version': man['version'] + 1}))
    with pytest.raises(ValueError, match='not readable by this mixhic'): Store(p)
    (p/'manifest.json').write_text('{"format": "mixhic-st')
    with pytest.raises(ValueError, match='damaged manifest'): Store(p)

def test_build_arguments(tiny, tmp_path):
    with pytest.raises(ValueError, match="unknown Hi-C transform 'log2'"): build(tiny, tmp_path/'x', transform='log2')
    with pytest.raises(ValueError, match="errors must be 'raise' or 'skip'"): build(tiny, tmp_path/'x', errors='ignore')
    with pytest.raises(ValueError, match=r"no chromosome chr7; it has chr1, chr2"): build(tiny, tmp_path/'x', chroms=['chr7'])
    assert not (tmp_path/'x').exists()

# ---------------------------------------------------------------------------------------------------------------
# the output path: an older store is replaced, anything else is left alone

def test_build_replaces_an_older_store(tiny, old_store):
    p = build(tiny, old_store[0])
    st = Store(p)
    assert st.tracks == ['atac', 'dnase'] and st.manifest['created'] >= old_store[1]['created']
    assert not [q.name for q in p.parent.iterdir() if '.tmp-' in q.name or '.old-' in q.name]

def test_build_does_not_replace_a_folder_that_is_not_a_store(tiny, tmp_path):
    "`--out` naming the folder that holds the inputs (a slip of the keyboard) must not delete them."
    d = tmp_path/'data'; d.mkdir()
    cool, bw = d/'map.cool', d/'atac.bw'
    shutil.copy(tiny['cool'], cool); shutil.copy(tiny['atac'], bw)
    with pytest.raises(ValueError) as e: build(tiny, d, hic=cool, tracks={'atac': bw})
    assert str(d) in str(e.value)
    assert cool.read_bytes() == Path(tiny['cool']).read_bytes() and bw.read_bytes() == Path(tiny['atac']).read_bytes()

def test_build_does_not_replace_a_file(tiny, tmp_path):
    "`--out` naming an existing file (here a copy of a track) must not delete it."
    f = tmp_path/'atac.bw'; shutil.copy(tiny['atac'], f)
    with pytest.raises(ValueError) as e: build(tiny, f)
    assert str(f) in str(e.value) and f.read_bytes() == Path(tiny['atac']).read_bytes()

# ---------------------------------------------------------------------------------------------------------------
# merging parts that were not built from the same inputs

def test_merge_refuses_other_track_files(tiny, tmp_path):
    "Two parts whose 'atac' tracks are different files must not be merged into one store."
    p1 = build(tiny, tmp_path/'p1.mixhic', tracks={'atac': tiny['atac']}, chroms=['chr1'])
    p2 = build(tiny, tmp_path/'p2.mixhic', tracks={'atac': tiny['dnase']}, chroms=['chr2'])
    with pytest.raises(ValueError, match='not built from the same inputs'): merge_stores([p1, p2], tmp_path/'m.mixhic')
    assert not (tmp_path/'m.mixhic').exists()

def test_merge_refuses_other_loop_files(tiny, tmp_path):
    "Parts built with different BEDPE files: the merged loop table would mix rows of both (statuses matched by row number)."
    other = write_text(tmp_path/'other.bedpe', """
        chr2\t200000\t205000\tchr2\t350000\t355000
        chr1\t300000\t305000\tchr1\t500000\t505000""")
    p1 = build(tiny, tmp_path/'p1.mixhic', loops=tiny['loops'], chroms=['chr1'])
    p2 = build(tiny, tmp_path/'p2.mixhic', loops=other, chroms=['chr2'])
    with pytest.raises(ValueError, match='not built from the same inputs'): merge_stores([p1, p2], tmp_path/'m.mixhic')

@pytest.mark.parametrize('order', [0, 1])
def test_merge_refuses_parts_with_and_without_loops(tiny, tmp_path, order):
    "A part without loops merged with one that has them: refused in either order, never a store that silently lost them."
    p1 = build(tiny, tmp_path/'p1.mixhic', loops=tiny['loops'], chroms=['chr1'])
    p2 = build(tiny, tmp_path/'p2.mixhic', chroms=['chr2'])
    with pytest.raises(ValueError): merge_stores([p1, p2][::1 if order == 0 else -1], tmp_path/'m.mixhic')
    assert not (tmp_path/'m.mixhic').exists()

def test_merge_same_inputs(tiny, tmp_path):
    "Parts of the same inputs merge into what one build gives: chromosomes, windows, labels."
    kw = dict(loops=tiny['loops'], genes=tiny['genes'])
    full = Store(build(tiny, tmp_path/'full.mixhic', **kw))
    parts = [build(tiny, tmp_path/f'{c}.mixhic', chroms=[c], **kw) for c in ('chr1', 'chr2')]
    m = Store(merge_stores(parts, tmp_path/'m.mixhic'))
    # the chromosomes, the diagonal windows and the loop statuses are in 06_store; the gene table and the counts here
    assert m.table('genes').equals(full.table('genes'))
    for kind in ('loops', 'genes'): assert m.manifest[kind]['ok'] == full.manifest[kind]['ok']
    with pytest.raises(ValueError, match='no stores to merge'): merge_stores([], tmp_path/'e.mixhic')
