//! Files no honest writer produces, built with [`super::craft`]: each
//! must be refused with a clear message, before anything is allocated
//! for what it claims, and without a panic.
use super::craft::{self, Column, File, Page};
use super::*;

fn decode(bytes: Vec<u8>) -> Result<Position, String> {
    // Unguarded: a panic must fail the test, not be caught.
    Position::decode_unguarded(bytes, &Bounds::default())
}

fn valid() -> File {
    File {
        columns: vec![Column::dates(&[19000, 19001, 19002]), Column::doubles("AAA", &[0.5, f64::NAN, 1.0])],
        num_rows: 3,
        group_rows: None,
    }
}

#[test]
fn the_crafted_writer_writes_what_the_decoder_reads() {
    // Without this, the hostile variants below could fail for the wrong reason.
    let p = decode(craft::write(&valid())).expect("a crafted valid file decodes");
    assert_eq!(p.dates, [19000, 19001, 19002]);
    assert_eq!(p.symbols, ["AAA"]);
    assert_eq!(p.values[0], 0.5);
    assert!(p.values[1].is_nan());
    assert_eq!(p.values[2], 1.0);
}

#[test]
fn a_footer_claiming_2_pow_62_rows_is_refused_before_allocating() {
    let mut f = valid();
    f.num_rows = 1 << 62;
    let err = decode(craft::write(&f)).expect_err("2^62 rows");
    assert!(err.contains("claims 4611686018427387904 rows"), "{err}");
}

#[test]
fn a_footer_claiming_2_pow_40_rows_is_refused_before_allocating() {
    let mut f = valid();
    f.num_rows = 1 << 40;
    f.group_rows = Some(1 << 40);
    let err = decode(craft::write(&f)).expect_err("2^40 rows");
    assert!(err.contains("rows, more than"), "{err}");
}

#[test]
fn negative_and_disagreeing_row_counts_are_refused() {
    for (file_rows, group_rows) in [(-1, None), (3, Some(-5)), (3, Some(2)), (3, Some(4)), (2, Some(3))] {
        let mut f = valid();
        f.num_rows = file_rows;
        f.group_rows = group_rows;
        assert!(decode(craft::write(&f)).is_err(), "{file_rows} / {group_rows:?}");
    }
}

#[test]
fn rows_times_columns_over_the_cell_cap_is_refused() {
    // 60,000 rows (within the row bound) x 600 columns: 36 M cells > 2^25.
    let rows = 60_000;
    let days: Vec<i32> = (0..rows).collect();
    let mut columns = vec![Column::dates(&days)];
    for i in 0..600 {
        // One page that claims every row but holds none: never read.
        columns.push(Column::new(&format!("S{i}"), craft::DOUBLE, vec![Page::data(rows, craft::PLAIN, vec![])]));
    }
    let f = File { columns, num_rows: i64::from(rows), group_rows: None };
    let err = decode(craft::write(&f)).expect_err("too many cells");
    assert!(err.contains("cells"), "{err}");
}

#[test]
fn a_footer_larger_than_the_columns_allow_is_refused_before_parsing() {
    // 20,000 columns with 400-byte names: a 17 MB footer that the reader
    // would turn into hundreds of MB of metadata.
    let long = "S".repeat(400);
    let mut columns = vec![Column::dates(&[1])];
    for i in 0..20_000 {
        columns.push(Column::new(&format!("{long}{i}"), craft::DOUBLE, vec![]));
    }
    let bytes = craft::write(&File { columns, num_rows: 1, group_rows: None });
    let err = decode(bytes).expect_err("footer");
    assert!(err.contains("metadata claims") && err.contains("bytes"), "{err}");
    // Within the cap the column count is what refuses it.
    let mut columns = vec![Column::dates(&[1])];
    for i in 0..17_000 {
        columns.push(Column::new(&format!("S{i}"), craft::DOUBLE, vec![]));
    }
    let err = decode(craft::write(&File { columns, num_rows: 1, group_rows: None })).expect_err("columns");
    assert!(err.contains("17000 symbol columns"), "{err}");
}

/// Found by the fuzzer: a 128-byte file whose root claims 1.3 G
/// children made the reader reserve 10 GB.
#[test]
fn schema_elements_claiming_children_that_do_not_exist_are_refused() {
    let seed = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/position/oom-schema-num-children"),
    )
    .expect("corpus file");
    let err = decode(seed).expect_err("oom seed");
    assert!(err.contains("schema") || err.contains("footer") || err.contains("unreadable"), "{err}");
}

/// Found by the fuzzer: `num_children` sent with another wire type,
/// which the crate reads as an i32 anyway.
#[test]
fn footer_fields_with_the_wrong_wire_type_are_refused() {
    let seed = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/position/oom-schema-field-wire-type"),
    )
    .expect("corpus file");
    assert!(decode(seed).is_err());
    // The crafted footer with field 3 (num_rows, i64) sent as a binary.
    let good = craft::write(&valid());
    let n = good.len();
    let footer_len = u32::from_le_bytes([good[n - 8], good[n - 7], good[n - 6], good[n - 5]]) as usize;
    let footer = &good[n - 8 - footer_len..n - 8];
    let mut scan = FooterScan { buf: footer, pos: 0, refuse_bool_lists: true };
    scan.strict(FILE_METADATA, 0).expect("the crafted footer is well typed");
    let mut bad = good.clone();
    let at = n - 8 - footer_len;
    let i = (at..n - 8).find(|&i| bad[i] == 0x16 && bad[i + 1] == 0x06).expect("num_rows field header");
    bad[i] = 0x18; // delta 1, binary: the value 6 now reads as a 3-byte string length
    let err = decode(bad).expect_err("wrong type");
    assert!(err.contains("wrong type") || err.contains("footer"), "{err}");
}

/// Found by the fuzzer: a run header in the definition levels longer
/// than 10 bytes panicked the crate's RLE decoder.
#[test]
fn definition_levels_are_walked_before_the_crate_reads_them() {
    let seed = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/position/crash-rle-overlong-varint"),
    )
    .expect("corpus file");
    assert!(decode(seed).is_err());
    let mut f = valid();
    f.columns[1].optional = true;
    let levels = |runs: &[u8]| {
        let mut body = (runs.len() as u32).to_le_bytes().to_vec();
        body.extend_from_slice(runs);
        body.extend(craft::plain_f64(&[0.25, 0.5, 0.75]));
        body
    };
    f.columns[1].pages = vec![Page::data(3, craft::PLAIN, levels(&craft::rle_run(3, 1, 1)))];
    let p = decode(craft::write(&f)).expect("well-formed levels");
    assert_eq!(p.values, [0.25, 0.5, 0.75]);
    for bad in [vec![0xff; 12], vec![0x86], vec![0x07], vec![0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01]] {
        f.columns[1].pages = vec![Page::data(3, craft::PLAIN, levels(&bad))];
        let err = decode(craft::write(&f)).expect_err("bad levels");
        assert!(err.contains("definition levels"), "{bad:?}: {err}");
    }
}

#[test]
fn the_footer_scan_reads_real_footers_and_refuses_nesting() {
    let good = super::testutil::write(&[1, 2], &[super::testutil::Col::B("A", vec![true, false])]);
    check_schema_shape(&good, &Bounds::default()).expect("parquet-rs footer");
    let pyarrow =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/position/pyarrow-float"))
            .expect("corpus file");
    check_schema_shape(&pyarrow, &Bounds::default()).expect("pyarrow footer");
    // A nested schema: root -> group(1 child) -> leaf.
    let schema = parquet::schema::parser::parse_message_type(
        "message m { required int32 date (DATE); required group g { required double x; } }",
    )
    .expect("schema");
    let mut buf = Vec::new();
    let w = parquet::file::writer::SerializedFileWriter::new(&mut buf, std::sync::Arc::new(schema), Default::default())
        .expect("writer");
    w.close().expect("close");
    let err = decode(buf).expect_err("nested");
    assert!(err.contains("flat"), "{err}");
}

/// A page header with unknown fields, each a list of 2^31 booleans in 5
/// bytes: the Parquet crate's skip loops once per element without
/// consuming input (about a second each). Many of them stall it for
/// minutes; the checked decoder refuses such a header itself, and the
/// deadline catches what a check would miss.
fn stalling_file(lists: usize) -> Vec<u8> {
    let mut f = valid();
    let mut header_tail = Vec::new();
    for _ in 0..lists {
        // Field id 100 (long form), type list; list header: size 15+ of bool-true, varint 2^31-1.
        header_tail.extend([0x09, 0xc8, 0x01, 0xf1, 0xff, 0xff, 0xff, 0xff, 0x07]);
    }
    f.columns[0].pages[0].extra_header = header_tail;
    craft::write(&f)
}

#[test]
fn a_page_header_built_to_stall_the_reader_is_refused() {
    let err = decode(stalling_file(200)).expect_err("stall");
    assert!(err.contains("unreadable") || err.contains("header"), "{err}");
}

#[test]
fn the_last_resorts_turn_a_stall_or_a_panic_into_an_error() {
    // No known file stalls or panics the checked decoder; these check
    // the wrapper itself with work that does.
    let stall = guarded::<()>(Duration::from_millis(100), || loop {
        std::thread::park();
    });
    assert!(stall.as_ref().is_err_and(|e| e.contains("longer than")), "{stall:?}");
    let panic = guarded::<()>(Duration::from_secs(600), || panic!("a bug in a dependency"));
    assert!(panic.as_ref().is_err_and(|e| e.contains("failed on the file")), "{panic:?}");
    assert_eq!(guarded(Duration::from_secs(600), || Ok(7)), Ok(7));
    // And the real entry point goes through it.
    assert!(decode_with_deadline(stalling_file(10), &Bounds::default(), Duration::from_secs(600)).is_err());
}

#[test]
fn bounds_from_the_market_are_tighter() {
    let f = valid();
    let b = Bounds::for_market(&[19000, 19001], 1);
    assert!(Position::decode_within(craft::write(&f), &b).is_ok());
    let tiny = Bounds { max_rows: 2, max_columns: 1, max_cells: 2 };
    let err = Position::decode_within(craft::write(&f), &tiny).expect_err("3 rows > 2");
    assert!(err.contains("3 rows"), "{err}");
    let b = Bounds::for_market(&(0..1000).collect::<Vec<_>>(), 50);
    assert_eq!((b.max_rows, b.max_columns), (1000 + ROW_SLACK, 50 + COLUMN_SLACK));
    assert_eq!(Bounds::for_market(&[], 0).max_rows, ROW_SLACK);
    assert_eq!(Bounds::for_market(&[i32::MIN, i32::MAX], usize::MAX), Bounds::default());
}

/// The red team's 84 KB file: one dictionary value, indices as one RLE
/// run per column. Within the row and cell bounds, so only the
/// encoding check stops it.
fn dictionary_bomb(rows: i32, columns: usize) -> File {
    let days: Vec<i32> = (0..rows).collect();
    let mut cols = vec![Column::dates(&days)];
    for i in 0..columns {
        let mut c = Column::new(
            &format!("S{i}"),
            craft::DOUBLE,
            vec![
                Page::dictionary(1, craft::plain_f64(&[1.0])),
                Page::data(rows, craft::RLE_DICTIONARY, craft::dictionary_indices(rows as u64)),
            ],
        );
        c.encodings = vec![craft::PLAIN, craft::RLE, craft::RLE_DICTIONARY];
        cols.push(c);
    }
    File { columns: cols, num_rows: i64::from(rows), group_rows: None }
}

#[test]
fn a_dictionary_bomb_is_refused() {
    let bytes = craft::write(&dictionary_bomb(100_000, 40));
    // 4 M cells (32 MB decoded) from a file of mostly plain dates.
    assert!(bytes.len() < 410_000, "{}", bytes.len());
    let err = decode(bytes).expect_err("dictionary");
    assert!(err.contains("dictionary"), "{err}");
    // The same pages with the metadata hiding them: the page check stops it.
    let mut f = dictionary_bomb(1000, 2);
    for c in &mut f.columns[1..] {
        c.encodings = vec![craft::PLAIN];
        c.hide_dictionary = true;
    }
    let err = decode(craft::write(&f)).expect_err("dictionary");
    assert!(err.contains("a dictionary page"), "{err}");
}

#[test]
fn pages_that_contradict_the_metadata_are_refused() {
    // A data page claiming more values than its row group has rows.
    let mut f = valid();
    f.columns[1].pages[0].num_values = 1 << 30;
    let err = decode(craft::write(&f)).expect_err("page values");
    assert!(err.contains("more values"), "{err}");
    // A dictionary-encoded data page with no dictionary listed anywhere.
    let mut f = valid();
    f.columns[1].pages = vec![Page::data(3, craft::RLE_DICTIONARY, craft::dictionary_indices(3))];
    let err = decode(craft::write(&f)).expect_err("encoding");
    assert!(err.contains("encoded as"), "{err}");
    // Metadata values disagreeing with the rows.
    let mut f = valid();
    f.columns[1].num_values = Some(1 << 40);
    assert!(decode(craft::write(&f)).is_err());
}

#[test]
fn compressed_chunks_are_refused_before_the_reader_preallocates() {
    // A snappy chunk whose page claims a 2 GB uncompressed size: the
    // reader would reserve it before decompressing a byte.
    let mut f = valid();
    f.columns[1].codec = craft::SNAPPY;
    f.columns[1].pages[0].uncompressed = Some(i32::MAX);
    let err = decode(craft::write(&f)).expect_err("compressed");
    assert!(err.contains("compressed"), "{err}");
}

#[test]
fn wrong_types_are_refused() {
    for (physical, what) in [(craft::INT64, "INT64"), (craft::BYTE_ARRAY, "BYTE_ARRAY"), (craft::INT32, "INT32")] {
        let mut f = valid();
        f.columns[1].physical = physical;
        let err = decode(craft::write(&f)).expect_err(what);
        assert!(err.contains(what), "{err}");
    }
    // A time-zone-aware timestamp where the date must be: never converted.
    let mut f = valid();
    f.columns[0].date = false;
    f.columns[0].timestamp = true;
    f.columns[0].physical = craft::INT64;
    let err = decode(craft::write(&f)).expect_err("timestamp");
    // Refused by the footer scan (no logical type but DATE) or the schema check.
    assert!(err.contains("DATE") || err.contains("footer field (8)"), "{err}");
    // An INT32 date column without the DATE annotation.
    let mut f = valid();
    f.columns[0].date = false;
    assert!(decode(craft::write(&f)).is_err());
}

#[test]
fn every_prefix_and_many_corruptions_are_errors_not_panics() {
    let files = [craft::write(&valid()), craft::write(&dictionary_bomb(50, 2)), {
        super::testutil::write(&[1, 2, 3], &[super::testutil::Col::F("A", vec![Some(1.0), None, Some(0.5)])])
    }];
    for good in files {
        for cut in 0..good.len() {
            let _ = decode(good[..cut].to_vec());
        }
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..3000 {
            let mut g = good.clone();
            for _ in 0..3 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let i = (rng % g.len() as u64) as usize;
                g[i] = (rng >> 32) as u8;
            }
            let _ = decode(g);
        }
    }
}

#[test]
fn infinite_weights_are_refused_with_the_symbol_and_date() {
    let f = File {
        columns: vec![Column::dates(&[19000, 19001]), Column::doubles("AAA", &[0.5, f64::INFINITY])],
        num_rows: 2,
        group_rows: None,
    };
    let err = decode(craft::write(&f)).expect_err("inf");
    assert!(err.contains("`AAA`") && err.contains("2022-01-09") && err.contains("finite"), "{err}");
    let f = File {
        columns: vec![Column::dates(&[19000]), Column::doubles("AAA", &[f64::NEG_INFINITY])],
        num_rows: 1,
        group_rows: None,
    };
    assert!(decode(craft::write(&f)).is_err());
}

#[test]
fn weights_whose_sum_overflows_are_refused_but_nan_is_no_position() {
    let f = File {
        columns: vec![
            Column::dates(&[19000, 19001]),
            Column::doubles("A", &[1e308, 0.5]),
            Column::doubles("B", &[1e308, f64::NAN]),
        ],
        num_rows: 2,
        group_rows: None,
    };
    let err = decode(craft::write(&f)).expect_err("overflow");
    assert!(err.contains("2022-01-08") && err.contains("float"), "{err}");
    let f = File {
        columns: vec![Column::dates(&[19000]), Column::doubles("A", &[f64::NAN]), Column::doubles("B", &[1e308])],
        num_rows: 1,
        group_rows: None,
    };
    assert!(decode(craft::write(&f)).is_ok());
}
