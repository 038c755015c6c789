// Writes recal's writer-diversity exports (testdata/writers/files/) with
// Parquet writers that recal's own code does not use: nodejs-polars (Rust
// polars), parquet-wasm (arrow-rs) fed by apache-arrow (JS), and the
// pure-JavaScript hyparquet-writer. Every file holds the same N rows, built
// from the row number i by the rules in row(i) below, in the layout its
// writer's users produce (by default, and the layouts of issue 19:
// dictionary strings over several row groups, all-null columns of arrow's
// Null type, Timestamp(Second) and Date64 known only from the stored arrow
// schema). expected.json says what a run must make of every file: rows,
// rejects by reason and data-quality counts, derived here from the rules
// that planted them, not from recal.
//
// Regenerate with `make writer-files` (npm ci of the pinned versions in
// package-lock.json, then node gen.mjs files).
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const pl = require('nodejs-polars')
const arrow = require('apache-arrow')
const pq = require('parquet-wasm')
const { parquetWriteBuffer } = await import('hyparquet-writer')

const N = 3000
const AS_OF = '2026-01-15' // the as-of date the expectations assume
const COURTS = ['NYC', 'LOS', 'ATL', 'HOU', 'SFR']
const CLOSURES = ['A', 'B', 'Y', 'K', 'M']
const DAY = 86400000
const day = (s) => Date.parse(s + 'T00:00:00Z') / DAY // days since 1970-01-01

// row(i) is the one definition of the data. Planted faults: a null
// idnproceeding (MISSING_REQUIRED), a closure before its NTA
// (COMP_BEFORE_OSC), a non-closure code (NOT_A_CLOSURE_CODE), an unknown
// court (UNKNOWN_COURT); optional cells recal counts as malformed: a
// custody code outside D/R/N, an ij_code that is not a judge code, a birth
// date after the as-of date.
function row(i) {
  const osc = day('2012-01-01') + (i % 2000)
  const comp = i % 450 === 3 ? day('2011-01-01') : day('2016-03-01') + (i % 1500)
  return {
    idncase: 100000 + i,
    idnproceeding: i % 500 === 0 ? null : 9000000 + i,
    alien_nbr: 'A' + String(200000000 + i),
    base_city_code: i % 400 === 7 ? 'ZZZ' : COURTS[i % 5],
    ij_code: i % 7 === 0 ? null : i % 211 === 0 ? 'not a code' : 'IJ' + (i % 9),
    case_type: ['RMV', 'DEP', 'EXC'][i % 3],
    custody: i % 301 === 0 ? 'Q' : ['D', 'R', 'N'][i % 3],
    nat: ['MX', 'GT', 'HO', 'ES'][i % 4],
    lang: ['SP', 'ENG', 'MAM'][i % 3],
    osc_date: osc,
    input_date: osc + 3,
    comp_date: comp,
    other_comp: i % 350 === 11 ? 'X' : CLOSURES[i % 5],
    crim_ind: i % 4 === 0,
    absentia: i % 3 === 0 ? 'Y' : 'N',
    c_birthdate: i % 13 === 0 ? null : i % 997 === 0 ? day('2090-01-01') : day('1980-01-01') + ((i * 37) % 12000),
    e_28_date: i % 2 === 0 ? day('2015-05-05') + (i % 100) : null,
    latest_hearing: comp - 30,
    pending_applications: i % 6 === 0 ? null : i % 6 === 1 ? [] : ['I-130', 'TPS'].slice(0, (i % 2) + 1),
    application_outcome: i % 4 === 1 ? 'PENDING' : null,
    // recal_motion_date and recal_motion_dec hold no value in any row: the
    // writers that type such a column as arrow's Null do so.
  }
}

// expected applies contract §1.1's reject order (recal's validator checks
// in the same order: required null, …, comp before osc, closure code,
// court) and counts malformed optional cells of accepted rows.
function expected(rows) {
  const rejects = {}
  const quality = {}
  let accepted = 0
  const asOf = day(AS_OF)
  for (const r of rows) {
    let why = null
    if (r.idnproceeding === null) why = 'MISSING_REQUIRED'
    else if (r.comp_date < r.osc_date) why = 'COMP_BEFORE_OSC'
    else if (!CLOSURES.includes(r.other_comp)) why = 'NOT_A_CLOSURE_CODE'
    else if (!COURTS.includes(r.base_city_code)) why = 'UNKNOWN_COURT'
    if (why) {
      rejects[why] = (rejects[why] || 0) + 1
      continue
    }
    accepted++
    const bad = (col) => (quality[col] = (quality[col] || 0) + 1)
    if (r.custody === 'Q') bad('custody')
    if (r.ij_code === 'not a code') bad('ij_code')
    if (r.c_birthdate !== null && r.c_birthdate > asOf) bad('c_birthdate')
  }
  return { rows: rows.length, accepted, rejects, quality }
}

const rows = Array.from({ length: N }, (_, k) => row(k + 1))
const col = (name) => rows.map((r) => r[name])
const STRINGS = ['base_city_code', 'ij_code', 'case_type', 'custody', 'nat', 'lang', 'other_comp', 'absentia', 'application_outcome']
const DATES = ['osc_date', 'input_date', 'comp_date', 'c_birthdate', 'e_28_date', 'latest_hearing']

// --- nodejs-polars -------------------------------------------------------

function polarsFrame(categorical) {
  const s = []
  s.push(pl.Series('idncase', col('idncase'), pl.Int64))
  s.push(pl.Series('idnproceeding', col('idnproceeding'), pl.Int64))
  s.push(pl.Series('alien_nbr', col('alien_nbr'), pl.Utf8))
  for (const c of STRINGS) {
    const v = pl.Series(c, col(c), pl.Utf8)
    s.push(categorical ? v.cast(pl.Categorical) : v)
  }
  for (const c of DATES) {
    const ms = col(c).map((d) => (d === null ? null : new Date(d * DAY)))
    // comp_date as a millisecond datetime, the rest as dates: what a
    // polars user's pipeline leaves after parsing the source's timestamps.
    s.push(c === 'comp_date' ? pl.Series(c, ms, pl.Datetime('ms')) : pl.Series(c, ms, pl.Date))
  }
  s.push(pl.Series('crim_ind', col('crim_ind'), pl.Bool))
  s.push(pl.Series('pending_applications', col('pending_applications'), pl.List(pl.Utf8)))
  // Columns that are None everywhere: polars types them Null (as it does
  // for records whose field is always null).
  return pl.DataFrame(s).withColumns(pl.lit(null).alias('recal_motion_date'), pl.lit(null).alias('recal_motion_dec'))
}

async function writePolars(dir) {
  // The default: DataFrame.writeParquet (zstd is polars' own default
  // codec; nodejs-polars defaults to uncompressed, so it is set).
  polarsFrame(false).writeParquet(path.join(dir, 'polars-default.parquet'), { compression: 'zstd' })
  // Categorical strings over row groups of 512 rows (sinkParquet is the
  // nodejs-polars call that takes a row-group size).
  await polarsFrame(true).lazy().sinkParquet(path.join(dir, 'polars-categorical.parquet'), { rowGroupSize: 512, compression: 'zstd' }).collect?.()
}

// --- apache-arrow (JS) + parquet-wasm (arrow-rs) -------------------------

function arrowTable(dictionary) {
  const v = (data, type) => arrow.vectorFromArray(data, type)
  const str = dictionary ? () => new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()) : () => new arrow.Utf8()
  const cols = {
    idncase: v(col('idncase').map(BigInt), new arrow.Int64()),
    idnproceeding: v(col('idnproceeding').map((x) => (x === null ? null : BigInt(x))), new arrow.Int64()),
    alien_nbr: v(col('alien_nbr'), new arrow.Utf8()),
  }
  for (const c of STRINGS) cols[c] = v(col(c), str())
  for (const c of DATES) {
    const d = col(c)
    if (dictionary && c === 'comp_date') {
      cols[c] = v(d.map((x) => (x === null ? null : x * DAY)), new arrow.TimestampSecond()) // builders take epoch ms
    } else if (dictionary && c === 'input_date') {
      cols[c] = v(d.map((x) => (x === null ? null : new Date(x * DAY))), new arrow.DateMillisecond())
    } else if (c === 'comp_date') {
      cols[c] = v(d.map((x) => (x === null ? null : x * DAY)), new arrow.TimestampMillisecond())
    } else {
      cols[c] = v(d.map((x) => (x === null ? null : new Date(x * DAY))), new arrow.DateDay())
    }
  }
  cols.crim_ind = v(col('crim_ind'), new arrow.Bool())
  cols.pending_applications = v(col('pending_applications'), new arrow.List(new arrow.Field('item', new arrow.Utf8(), true)))
  if (dictionary) {
    cols.recal_motion_date = v(Array(N).fill(null), new arrow.Null())
    cols.recal_motion_dec = v(Array(N).fill(null), new arrow.Null())
  }
  return new arrow.Table(cols)
}

function writeArrowRS(dir) {
  const write = (name, table, props) => {
    const wasm = pq.Table.fromIPCStream(arrow.tableToIPC(table, 'stream'))
    fs.writeFileSync(path.join(dir, name), pq.writeParquet(wasm, props))
  }
  // The default writer properties (arrow-rs defaults: dictionary pages,
  // one row group up to 1M rows).
  write('arrowrs-default.parquet', arrowTable(false), null)
  // Dictionary arrays over row groups of 700 rows, Timestamp(Second) and
  // Date64 (bare INT64 in Parquet, typed only in ARROW:schema), Null columns.
  const props = new pq.WriterPropertiesBuilder().setCompression(pq.Compression.ZSTD).setMaxRowGroupSize(700).build()
  write('arrowrs-dictionary.parquet', arrowTable(true), props)
}

// --- hyparquet-writer (pure JavaScript) ----------------------------------

function writeHyparquet(dir) {
  const columnData = [
    { name: 'idncase', data: col('idncase').map(BigInt), type: 'INT64' },
    { name: 'idnproceeding', data: col('idnproceeding').map((x) => (x === null ? null : BigInt(x))), type: 'INT64' },
    { name: 'alien_nbr', data: col('alien_nbr'), type: 'STRING' },
    ...STRINGS.map((c) => ({ name: c, data: col(c), type: 'STRING' })),
    // Dates as JavaScript Dates: hyparquet-writer's TIMESTAMP (INT64,
    // TIMESTAMP_MILLIS), its default for them.
    ...DATES.map((c) => ({ name: c, data: col(c).map((x) => (x === null ? null : new Date(x * DAY))), type: 'TIMESTAMP' })),
    { name: 'crim_ind', data: col('crim_ind'), type: 'BOOLEAN' },
  ]
  // The defaults: snappy, row groups of 1000 then 100,000 rows, dictionaries.
  const buf = parquetWriteBuffer({ columnData })
  fs.writeFileSync(path.join(dir, 'hyparquet-default.parquet'), Buffer.from(buf))
}

const dir = process.argv[2] || 'files'
fs.mkdirSync(dir, { recursive: true })
await writePolars(dir)
writeArrowRS(dir)
writeHyparquet(dir)
const versions = {}
for (const p of ['nodejs-polars', 'parquet-wasm', 'apache-arrow', 'hyparquet-writer']) {
  const here = path.dirname(new URL(import.meta.url).pathname)
  versions[p] = JSON.parse(fs.readFileSync(path.join(here, 'node_modules', p, 'package.json'))).version
}
fs.writeFileSync(path.join(dir, 'expected.json'), JSON.stringify({ as_of: AS_OF, versions, ...expected(rows) }, null, 2) + '\n')
