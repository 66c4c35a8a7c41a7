//! A minimal Parquet writer with every field under the caller's control,
//! for tests and fuzz seeds: it writes the files no honest writer would
//! (a footer claiming 2^62 rows, a dictionary page expanding 1 value to
//! millions, pages that contradict their metadata). Thrift compact
//! protocol, by hand: a few dozen lines, and no field is ever "fixed up".

/// Physical types, encodings, codecs and page types by their Parquet
/// numbers.
pub const BOOLEAN: i32 = 0;
pub const INT32: i32 = 1;
pub const INT64: i32 = 2;
pub const DOUBLE: i32 = 5;
pub const BYTE_ARRAY: i32 = 6;
pub const PLAIN: i32 = 0;
pub const RLE: i32 = 3;
pub const BIT_PACKED: i32 = 4;
pub const RLE_DICTIONARY: i32 = 8;
pub const UNCOMPRESSED: i32 = 0;
pub const SNAPPY: i32 = 1;

/// One page: a data page (v1) or a dictionary page.
#[derive(Debug, Clone)]
pub struct Page {
    pub dictionary: bool,
    pub num_values: i32,
    pub encoding: i32,
    pub body: Vec<u8>,
    /// Claimed uncompressed size; `None`: the body's length.
    pub uncompressed: Option<i32>,
    /// Raw bytes appended to the page header before its stop byte
    /// (fields the reader does not know).
    pub extra_header: Vec<u8>,
}

impl Page {
    pub fn data(num_values: i32, encoding: i32, body: Vec<u8>) -> Page {
        Page { dictionary: false, num_values, encoding, body, uncompressed: None, extra_header: Vec::new() }
    }
    pub fn dictionary(num_values: i32, body: Vec<u8>) -> Page {
        Page { dictionary: true, num_values, encoding: PLAIN, body, uncompressed: None, extra_header: Vec::new() }
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub physical: i32,
    pub optional: bool,
    /// Annotate as DATE (logical and converted type).
    pub date: bool,
    /// Annotate as TIMESTAMP(MILLIS, adjusted to UTC) instead.
    pub timestamp: bool,
    pub pages: Vec<Page>,
    pub codec: i32,
    /// Encodings listed in the metadata.
    pub encodings: Vec<i32>,
    /// Claimed number of values; `None`: the row count.
    pub num_values: Option<i64>,
    /// Leave a leading dictionary page out of the metadata: the chunk
    /// then claims to start with a data page.
    pub hide_dictionary: bool,
}

impl Column {
    pub fn new(name: &str, physical: i32, pages: Vec<Page>) -> Column {
        Column {
            name: name.into(),
            physical,
            optional: false,
            date: false,
            timestamp: false,
            pages,
            codec: UNCOMPRESSED,
            encodings: vec![PLAIN, RLE],
            num_values: None,
            hide_dictionary: false,
        }
    }
    /// A required DATE column of plain days.
    pub fn dates(days: &[i32]) -> Column {
        let mut c = Column::new("date", INT32, vec![Page::data(days.len() as i32, PLAIN, plain_i32(days))]);
        c.date = true;
        c
    }
    /// A required DOUBLE column of plain values.
    pub fn doubles(name: &str, v: &[f64]) -> Column {
        Column::new(name, DOUBLE, vec![Page::data(v.len() as i32, PLAIN, plain_f64(v))])
    }
}

/// One row group holding every column; `num_rows` is claimed in both
/// the footer and the row group.
#[derive(Debug, Clone)]
pub struct File {
    pub columns: Vec<Column>,
    pub num_rows: i64,
    /// The row group's claim; `None`: `num_rows`.
    pub group_rows: Option<i64>,
}

pub fn plain_i32(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
pub fn plain_f64(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// An RLE run: `count` repetitions of `value` at `bit_width` bits
/// (at most 8), as the hybrid RLE encoding writes it.
pub fn rle_run(count: u64, value: u8, bit_width: u8) -> Vec<u8> {
    let mut out = Vec::new();
    varint(&mut out, count << 1);
    if bit_width > 0 {
        out.push(value);
    }
    out
}

/// A dictionary-indices body: bit width, then one RLE run of index 0.
pub fn dictionary_indices(count: u64) -> Vec<u8> {
    let mut out = vec![1u8];
    out.extend(rle_run(count, 0, 1));
    out
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Thrift compact protocol, writing side only.
struct W {
    out: Vec<u8>,
    last: Vec<i16>,
}

impl W {
    fn new() -> W {
        W { out: Vec::new(), last: vec![0] }
    }
    fn field(&mut self, id: i16, ty: u8) {
        let last = self.last.last_mut().map(|l| std::mem::replace(l, id)).unwrap_or(0);
        let delta = id - last;
        if (1..=15).contains(&delta) {
            self.out.push(((delta as u8) << 4) | ty);
        } else {
            self.out.push(ty);
            varint(&mut self.out, ((id << 1) ^ (id >> 15)) as u16 as u64);
        }
    }
    fn i32(&mut self, id: i16, v: i32) {
        self.field(id, 5);
        varint(&mut self.out, ((v << 1) ^ (v >> 31)) as u32 as u64);
    }
    fn i64(&mut self, id: i16, v: i64) {
        self.field(id, 6);
        varint(&mut self.out, ((v << 1) ^ (v >> 63)) as u64);
    }
    fn bin(&mut self, id: i16, v: &[u8]) {
        self.field(id, 8);
        varint(&mut self.out, v.len() as u64);
        self.out.extend_from_slice(v);
    }
    fn list(&mut self, id: i16, elem: u8, n: usize) {
        self.field(id, 9);
        if n < 15 {
            self.out.push(((n as u8) << 4) | elem);
        } else {
            self.out.push(0xf0 | elem);
            varint(&mut self.out, n as u64);
        }
    }
    fn raw_i32(&mut self, v: i32) {
        varint(&mut self.out, ((v << 1) ^ (v >> 31)) as u32 as u64);
    }
    fn begin(&mut self, id: Option<i16>) {
        if let Some(id) = id {
            self.field(id, 12);
        }
        self.last.push(0);
    }
    fn end(&mut self) {
        self.out.push(0);
        self.last.pop();
    }
}

fn page_header(p: &Page) -> Vec<u8> {
    let mut w = W::new();
    w.i32(1, if p.dictionary { 2 } else { 0 });
    w.i32(2, p.uncompressed.unwrap_or(p.body.len() as i32));
    w.i32(3, p.body.len() as i32);
    if p.dictionary {
        w.begin(Some(7));
        w.i32(1, p.num_values);
        w.i32(2, p.encoding);
        w.end();
    } else {
        w.begin(Some(5));
        w.i32(1, p.num_values);
        w.i32(2, p.encoding);
        w.i32(3, RLE);
        w.i32(4, RLE);
        w.end();
    }
    w.out.extend_from_slice(&p.extra_header);
    w.out.push(0);
    w.out
}

/// The file's bytes.
pub fn write(f: &File) -> Vec<u8> {
    let mut out = b"PAR1".to_vec();
    let chunks = write_chunks(&mut out, f);
    let footer = footer(f, &chunks);
    out.extend_from_slice(&footer);
    out.extend_from_slice(&(footer.len() as u32).to_le_bytes());
    out.extend_from_slice(b"PAR1");
    out
}

/// Where one column chunk landed: (dictionary page offset, first data page
/// offset, size in bytes).
type Chunk = (Option<i64>, i64, i64);

/// The pages of every column, as given, one chunk each.
fn write_chunks(out: &mut Vec<u8>, f: &File) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    for c in &f.columns {
        let start = out.len() as i64;
        let mut data = None;
        for p in &c.pages {
            if !p.dictionary && data.is_none() {
                data = Some(out.len() as i64);
            }
            out.extend(page_header(p));
            out.extend_from_slice(&p.body);
        }
        let has_dict = c.pages.first().is_some_and(|p| p.dictionary);
        if has_dict && c.hide_dictionary {
            chunks.push((None, start, out.len() as i64 - start));
        } else {
            chunks.push((has_dict.then_some(start), data.unwrap_or(start), out.len() as i64 - start));
        }
    }
    chunks
}

/// The FileMetaData: the schema, then one row group with the chunks.
fn footer(f: &File, chunks: &[Chunk]) -> Vec<u8> {
    let mut w = W::new();
    w.i32(1, 1);
    schema(&mut w, f);
    w.i64(3, f.num_rows);
    w.list(4, 12, 1);
    w.begin(None);
    w.list(1, 12, f.columns.len());
    for (c, (dict, data, size)) in f.columns.iter().zip(chunks) {
        w.begin(None);
        w.i64(2, *data);
        w.begin(Some(3));
        w.i32(1, c.physical);
        w.list(2, 5, c.encodings.len());
        for e in &c.encodings {
            w.raw_i32(*e);
        }
        w.list(3, 8, 1);
        varint(&mut w.out, c.name.len() as u64);
        w.out.extend_from_slice(c.name.as_bytes());
        w.i32(4, c.codec);
        w.i64(5, c.num_values.unwrap_or(f.group_rows.unwrap_or(f.num_rows)));
        w.i64(6, *size);
        w.i64(7, *size);
        w.i64(9, *data);
        if let Some(d) = dict {
            w.i64(11, *d);
        }
        w.end();
        w.end();
    }
    let total: i64 = chunks.iter().map(|c| c.2).sum();
    w.i64(2, total);
    w.i64(3, f.group_rows.unwrap_or(f.num_rows));
    w.end();
    w.out.push(0);
    w.out
}

/// The schema list: the root, then each column with its logical type.
fn schema(w: &mut W, f: &File) {
    w.list(2, 12, f.columns.len() + 1);
    w.begin(None);
    w.bin(4, b"schema");
    w.i32(5, f.columns.len() as i32);
    w.end();
    for c in &f.columns {
        w.begin(None);
        w.i32(1, c.physical);
        w.i32(3, i32::from(c.optional));
        w.bin(4, c.name.as_bytes());
        if c.date {
            w.i32(6, 6);
            w.begin(Some(10));
            w.begin(Some(6));
            w.end();
            w.end();
        } else if c.timestamp {
            w.i32(6, 9);
            w.begin(Some(10));
            w.begin(Some(8));
            w.field(1, 1); // isAdjustedToUTC = true
            w.begin(Some(2));
            w.begin(Some(1)); // MILLIS
            w.end();
            w.end();
            w.end();
            w.end();
        }
        w.end();
    }
}
