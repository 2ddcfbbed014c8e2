"""Fuzzed label inputs, splits and data fetching (issue 17): every case either a clean error naming the file, line,
chromosome or value, or an exact, checked result; never a silent NaN, a lost row or a network call offline.

Cases (each a test below, so the figures can be re-run):

| case | before | now |
|---|---|---|
| gene table: text expression value ('high', '1,5', 'inf') | NaN, status ok, gene gone at fine-tuning | error: file, line, value |
| gene table: empty / NA expression | NaN (missing) | NaN (missing), unchanged |
| gene table: a gene name twice | both kept | error naming name and lines; `skip` keeps the first |
| BEDPE: text in one number column of the first row | row dropped as a header | error naming line 1 |
| BEDPE: a column-name or '#' header | skipped | skipped, unchanged |
| BEDPE: columns | chrom start1 end1 start2 end2 | chrom1 start1 end1 chrom2 start2 end2 (+ chrom) |
| Split: a chromosome in valid and test, or train and test | accepted (valid wins) | error naming it |
| datasets.fetch with MIXHIC_OFFLINE=1 | downloaded | local copy, or an error saying it is offline |
"""
from __future__ import annotations
import urllib.request
from pathlib import Path
import numpy as np, pandas as pd, pytest
from helpers import write_text, main_in_process
from mixhic.annot import read_bedpe, read_genes, BEDPE_COLS
from mixhic.data import Split
from mixhic import datasets as ds
from mixhic.store import Store

def assert_one_error_line(rc, err, cmd, *fragments):
    assert rc == 1, err
    lines = [l for l in err.splitlines() if l.startswith(f'mixhic {cmd}: error:')]
    assert len(lines) == 1 and 'Traceback' not in err, err
    for f in fragments: assert str(f) in lines[0], (f, lines[0])

def build_argv(tiny, out, *extra)->list:
    return ['build', '--hic', tiny['cool'], '--track', f"atac={tiny['atac']}", '--out', out, '--no-progress', *extra]

# ---------------------------------------------------------------------------------------------------------------
# gene tables

GENES = "chrom\ttss\tname\texpression\nchr1\t400000\tA\t3.5\nchr1\t650000\tB\t{v}\nchr2\t300000\tC\t12.0\n"

@pytest.mark.parametrize('v', ['high', '1,5', '3.5.1', 'inf', '-inf', 'n/a?'])
def test_gene_text_value_is_an_error_naming_line_and_value(tiny, tmp_path, v):
    p = tmp_path/'genes.tsv'; p.write_text(GENES.format(v=v))
    with pytest.raises(ValueError) as e: read_genes(p, tiny['sizes'])
    msg = str(e.value)
    assert str(p) in msg and 'line 3' in msg and f"expression value {v!r} is not a finite number" in msg
    df, rep = read_genes(p, tiny['sizes'], errors='skip')
    assert df.name.tolist() == ['A', 'C'] and rep == {'bad_value': 1} and np.isfinite(df.value).all()

@pytest.mark.parametrize('v', ['', 'NA', 'nan'])
def test_gene_missing_value_stays_missing(tiny, tmp_path, v):
    "A missing value is not an error: the gene is kept, its value NaN (the store marks it non-finite)."
    p = tmp_path/'genes.tsv'; p.write_text(GENES.format(v=v))
    df, rep = read_genes(p, tiny['sizes'])
    assert df.name.tolist() == ['A', 'B', 'C'] and rep == {} and np.isnan(df.value[1])

def test_gene_value_line_numbers_count_blank_lines(tiny, tmp_path):
    p = tmp_path/'genes.tsv'; p.write_text(GENES.format(v='2').replace('\nchr2', '\n\n\nchr2').replace('12.0', 'x'))
    with pytest.raises(ValueError, match="line 6: expression value 'x'"): read_genes(p, tiny['sizes'])

def test_gene_text_value_through_build(tiny, tmp_path, capsys):
    p = tmp_path/'genes.tsv'; p.write_text(GENES.format(v='high'))
    rc, out, err = main_in_process(build_argv(tiny, tmp_path/'x.mixhic', '--genes', p), capsys)
    assert_one_error_line(rc, err, 'build', p, 'line 3', "'high'")
    assert not (tmp_path/'x.mixhic').exists()

def test_gene_value_column_chosen_by_name_is_checked(tiny, tmp_path):
    p = tmp_path/'genes.tsv'; p.write_text("chrom\ttss\tname\ttpm\nchr1\t400000\tA\t1\nchr2\t300000\tC\tlow\n")
    with pytest.raises(ValueError, match="line 3: tpm value 'low'"): read_genes(p, tiny['sizes'], value_col='tpm')
    assert read_genes(p, tiny['sizes'])[1] == {}                         # a column not used as the value is not checked

DUPS = "chrom\ttss\tname\nchr1\t400000\tA\nchr1\t650000\tB\nchr2\t300000\tA\nchr2\t310000\tB\nchr2\t320000\tA\n"

def test_duplicate_gene_names_are_an_error(tiny, tmp_path):
    p = tmp_path/'genes.tsv'; p.write_text(DUPS)
    with pytest.raises(ValueError) as e: read_genes(p, tiny['sizes'])
    msg = str(e.value)
    assert str(p) in msg and '3 rows repeat a gene name of column name' in msg
    assert 'A (lines 2, 4, 6)' in msg and 'B (lines 3, 5)' in msg

def test_duplicate_gene_names_skip_keeps_the_first(tiny, tmp_path):
    p = tmp_path/'genes.tsv'; p.write_text(DUPS)
    df, rep = read_genes(p, tiny['sizes'], errors='skip')
    assert df[['chrom', 'tss', 'name']].values.tolist() == [['chr1', 400000, 'A'], ['chr1', 650000, 'B']]
    assert rep == {'duplicate_name': 3}

def test_missing_gene_names_are_not_duplicates(tiny, tmp_path):
    "Rows without a name (empty cells) are not one gene named 'nan' repeated."
    p = tmp_path/'genes.tsv'; p.write_text("chrom\ttss\tname\nchr1\t400000\t\nchr1\t650000\t\nchr2\t300000\tC\n")
    df, rep = read_genes(p, tiny['sizes'])
    assert len(df) == 3 and rep == {}

def test_duplicate_gene_names_through_build(tiny, tmp_path, capsys):
    p = tmp_path/'genes.tsv'; p.write_text(DUPS)
    rc, out, err = main_in_process(build_argv(tiny, tmp_path/'x.mixhic', '--genes', p), capsys)
    assert_one_error_line(rc, err, 'build', p, 'A (lines 2, 4, 6)')
    rc, out, err = main_in_process(build_argv(tiny, tmp_path/'x.mixhic', '--genes', p, '--skip-bad'), capsys)
    assert rc == 0, err
    st = Store(tmp_path/'x.mixhic')
    assert st.table('genes').name.tolist() == ['A', 'B'] and st.manifest['genes']['file_report'] == {'duplicate_name': 3}

# ---------------------------------------------------------------------------------------------------------------
# BEDPE

ROWS = "chr1\t300000\t305000\tchr1\t500000\t505000\nchr1\t400000\t405000\tchr1\t700000\t705000\n"

@pytest.mark.parametrize('first', ['chr1\t3OOOOO\t305000\tchr1\t500000\t505000',     # a typo in one number
                                   'chr1\t300000\t305000\tchr1\tNA\t505000',
                                   'chr1\t300000\t305000\tchr1\t500000\t5.05e5x'])
def test_bedpe_first_row_with_text_is_not_a_header(tiny, tmp_path, first):
    p = tmp_path/'loops.bedpe'; p.write_text(first + '\n' + ROWS)
    with pytest.raises(ValueError) as e: read_bedpe(p, tiny['sizes'])
    msg = str(e.value)
    assert str(p) in msg and 'line 1: coordinates must be integers' in msg
    df, rep = read_bedpe(p, tiny['sizes'], errors='skip')
    assert len(df) == 2 and rep == {'bad_coordinate': 1}                 # counted, not silently a header

@pytest.mark.parametrize('head', ['chrom1\tstart1\tend1\tchrom2\tstart2\tend2', '#chrom1\tstart1\tend1\tchrom2\tstart2\tend2',
                                  'chr1\tx1\ty1\tchr2\tx2\ty2\tscore', '# comment', 'track name=loops'])
def test_bedpe_real_headers_are_skipped(tiny, tmp_path, head):
    p = tmp_path/'loops.bedpe'; p.write_text(head + '\n' + ROWS)
    df, rep = read_bedpe(p, tiny['sizes'])
    assert df.start1.tolist() == [300000, 400000] and rep == {}

def test_bedpe_text_on_a_later_row_names_its_line(tiny, tmp_path):
    p = tmp_path/'loops.bedpe'; p.write_text(ROWS + 'chr1\t300000\tend\tchr1\t500000\t505000\n')
    with pytest.raises(ValueError, match=r'line 3: coordinates must be integers, found 300000, end, 500000, 505000'):
        read_bedpe(p, tiny['sizes'])

def test_bedpe_columns_are_the_fields(tiny, tmp_path):
    "chrom1 start1 end1 chrom2 start2 end2, then name and score as in BEDPE; `chrom` (both anchors') last."
    p = tmp_path/'loops.bedpe'; p.write_text(ROWS.replace('505000\n', '505000\tl1\t2.5\n').replace('705000\n', '705000\tl2\t1\n'))
    df, _ = read_bedpe(p, tiny['sizes'])
    assert df.columns.tolist() == BEDPE_COLS + ['name', 'score', 'chrom']
    assert (df.chrom1 == df.chrom2).all() and (df.chrom == df.chrom1).all()
    back = tmp_path/'back.bedpe'; df[BEDPE_COLS + ['name', 'score']].to_csv(back, sep='\t', header=False, index=False)
    pd.testing.assert_frame_equal(read_bedpe(back, tiny['sizes'])[0], df)   # written as the field reads it, read back the same

def test_bedpe_first_row_text_through_build(tiny, tmp_path, capsys):
    p = tmp_path/'loops.bedpe'; p.write_text('chr1\t3OOOOO\t305000\tchr1\t500000\t505000\n' + ROWS)
    rc, out, err = main_in_process(build_argv(tiny, tmp_path/'x.mixhic', '--loops', p), capsys)
    assert_one_error_line(rc, err, 'build', p, 'line 1', '3OOOOO')
    assert not (tmp_path/'x.mixhic').exists()

# ---------------------------------------------------------------------------------------------------------------
# splits

@pytest.mark.parametrize('kw, named, where', [
    (dict(valid=('chr3',), test=('chr3',)), 'chr3', 'both valid and test'),
    (dict(valid=('chr10', 'chr11'), test=('chr11', 'chr12')), 'chr11', 'both valid and test'),
    (dict(valid=('chr3',)), 'chr3', 'both valid and test'),                     # the default test chromosomes
    (dict(test=('10',)), 'chr10/10', 'both valid and test'),                   # chr10 and 10 are one chromosome
    (dict(train=('chr1', 'chr2'), valid=('chr9',), test=('chr2',)), 'chr2', 'both test and train'),
    (dict(train=('chr1', 'chr2'), valid=('chr2',), test=()), 'chr2', 'both valid and train')])
def test_split_chromosome_in_two_splits_is_an_error(kw, named, where):
    with pytest.raises(ValueError) as e: Split(**kw)
    assert f'chromosome(s) {named} are {where}' in str(e.value)

def test_split_through_the_cli(tiny, tmp_path, capsys):
    rc, out, err = main_in_process(build_argv(tiny, tmp_path/'s.mixhic'), capsys)
    assert rc == 0, err
    rc, out, err = main_in_process(['pretrain', tmp_path/'s.mixhic', '--valid-chroms', 'chr2', '--test-chroms', 'chr2',
                                    '--out', tmp_path/'run'], capsys)
    assert_one_error_line(rc, err, 'pretrain', 'chromosome(s) chr2 are both valid and test')
    assert not (tmp_path/'run').exists()

# ---------------------------------------------------------------------------------------------------------------
# datasets offline

def test_fetch_with_mixhic_offline_never_opens_a_url(tmp_path, monkeypatch):
    def opened(url, timeout=None, **k): pytest.fail(f"offline fetch opened {url}")
    monkeypatch.setattr(ds, '_open', opened)
    monkeypatch.setattr(urllib.request, 'urlopen', opened)
    monkeypatch.setenv('MIXHIC_OFFLINE', '1')
    monkeypatch.setenv('MIXHIC_DATA_CACHE', str(tmp_path/'cache'))
    for name in ds.registry().query("local != ''").name:
        assert ds.fetch(name, progress=False) == ds.real_data(ds.info(name)['local'])
    for name in ds.registry().query("local == ''").name:
        with pytest.raises(ConnectionError, match='offline'): ds.fetch(name, progress=False, check=False)
    assert not (tmp_path/'cache').exists()
