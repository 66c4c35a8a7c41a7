//! The footer's Thrift, read by our own scanner before the Parquet crate
//! sees it: lengths against the bytes left, field types against the spec,
//! the schema's shape against what a position can be. The crate trusts
//! these claims; this module is why it never has to.

use super::*;

/// The footer's length (the 4 bytes before the closing magic) against
/// [`FOOTER_PER_COLUMN`] per allowed column: a footer is parsed whole, so
/// this is the one claim checked before the reader sees it. Anything
/// shorter than a footer is left to the reader's own error.
pub(super) fn check_footer_length(payload: &[u8], bounds: &Bounds) -> Result<(), String> {
    let Some(len) = payload.len().checked_sub(8).and_then(|at| payload.get(at..at + 4)) else {
        return Ok(());
    };
    let footer = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let cap = bounds.max_columns.saturating_add(1).saturating_mul(FOOTER_PER_COLUMN).saturating_add(FOOTER_BASE);
    if footer > cap {
        return Err(format!(
            "unreadable position: its metadata claims {footer} bytes, more than the {cap} its {} columns at most allow",
            bounds.max_columns + 1
        ));
    }
    Ok(())
}

/// The schema's shape, read from the footer's Thrift by [`FooterScan`]
/// before the reader parses it: the reader trusts each element's
/// `num_children` (it reserves that many slots: 2^31 claimed children is a
/// 16 GiB allocation from a 128-byte file) and recurses once per nesting
/// level (a deep schema overflows the stack, which nothing can catch). A
/// position is flat, so the one shape accepted is a root whose children are
/// all the other elements, each a leaf with a type.
pub(super) fn check_schema_shape(payload: &[u8], bounds: &Bounds) -> Result<(), String> {
    let bad = |why: &str| format!("unreadable position: {why}");
    let n = payload.len();
    let Some(len) = n.checked_sub(8).and_then(|at| payload.get(at..at + 4)) else {
        return Err(bad("too short for a Parquet file"));
    };
    let footer = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let start = (n - 8).checked_sub(footer).ok_or_else(|| bad("the footer is longer than the file"))?;
    let footer = &payload[start..n - 8];
    // Every field the position's footer may have, with the wire type the
    // format gives it: the crate reads a known field as its declared type
    // whatever the wire says, so a mismatch would put it out of step with
    // this scan (that is how a schema claiming 10 GB of children got past a
    // scan that only looked at well-typed fields).
    let mut typed = FooterScan { buf: footer, pos: 0, refuse_bool_lists: true };
    typed.strict(FILE_METADATA, 0).map_err(|e| bad(&e))?;
    let elements = FooterScan { buf: footer, pos: 0, refuse_bool_lists: true }.schema().map_err(|e| bad(&e))?;
    let (root, leaves) = elements.split_first().ok_or_else(|| bad("an empty schema"))?;
    if leaves.len() > bounds.max_columns + 1 {
        return Err(format!(
            "the position has {} symbol columns, more than the {} the market data allows",
            leaves.len() - 1,
            bounds.max_columns
        ));
    }
    if root.num_children != Some(leaves.len() as i64) {
        return Err(
            "nested or inconsistent position schema (a position is flat: a date and one column per symbol)".into()
        );
    }
    if leaves.iter().any(|e| !e.typed || !matches!(e.num_children, None | Some(0))) {
        return Err("nested position columns (a position is flat: a date and one column per symbol)".into());
    }
    Ok(())
}

/// A field's wire type in the Thrift compact protocol, and for structs and
/// lists what they hold.
#[derive(Clone, Copy)]
pub(super) enum Wire {
    Bool,
    I16,
    I32,
    I64,
    Binary,
    List(&'static Wire),
    Struct(&'static [(i64, Wire)]),
}

impl Wire {
    fn code_matches(self, code: u8) -> bool {
        match self {
            Wire::Bool => matches!(code, 1 | 2),
            Wire::I16 => code == 4,
            Wire::I32 => code == 5,
            Wire::I64 => code == 6,
            Wire::Binary => code == 8,
            Wire::List(_) => code == 9,
            Wire::Struct(_) => code == 12,
        }
    }
}

/// The footer fields a position written by pyarrow or the parquet crate
/// has (parquet.thrift). Anything else (encryption, geospatial statistics,
/// logical types other than DATE, unknown fields) is refused, so the
/// crate's reader never has to skip or guess.
const EMPTY: Wire = Wire::Struct(&[]);
const LOGICAL_TYPE: Wire = Wire::Struct(&[(6, EMPTY)]);
const SCHEMA_ELEMENT: Wire = Wire::Struct(&[
    (1, Wire::I32),
    (2, Wire::I32),
    (3, Wire::I32),
    (4, Wire::Binary),
    (5, Wire::I32),
    (6, Wire::I32),
    (7, Wire::I32),
    (8, Wire::I32),
    (9, Wire::I32),
    (10, LOGICAL_TYPE),
]);
const KEY_VALUE: Wire = Wire::Struct(&[(1, Wire::Binary), (2, Wire::Binary)]);
const STATISTICS: Wire = Wire::Struct(&[
    (1, Wire::Binary),
    (2, Wire::Binary),
    (3, Wire::I64),
    (4, Wire::I64),
    (5, Wire::Binary),
    (6, Wire::Binary),
    (7, Wire::Bool),
    (8, Wire::Bool),
    (9, Wire::I64),
]);
const ENCODING_STATS: Wire = Wire::Struct(&[(1, Wire::I32), (2, Wire::I32), (3, Wire::I32)]);
const SIZE_STATISTICS: Wire = Wire::Struct(&[(1, Wire::I64), (2, Wire::List(&Wire::I64)), (3, Wire::List(&Wire::I64))]);
const COLUMN_METADATA: Wire = Wire::Struct(&[
    (1, Wire::I32),
    (2, Wire::List(&Wire::I32)),
    (3, Wire::List(&Wire::Binary)),
    (4, Wire::I32),
    (5, Wire::I64),
    (6, Wire::I64),
    (7, Wire::I64),
    (8, Wire::List(&KEY_VALUE)),
    (9, Wire::I64),
    (10, Wire::I64),
    (11, Wire::I64),
    (12, STATISTICS),
    (13, Wire::List(&ENCODING_STATS)),
    (14, Wire::I64),
    (15, Wire::I32),
    (16, SIZE_STATISTICS),
]);
const COLUMN_CHUNK: Wire = Wire::Struct(&[
    (1, Wire::Binary),
    (2, Wire::I64),
    (3, COLUMN_METADATA),
    (4, Wire::I64),
    (5, Wire::I32),
    (6, Wire::I64),
    (7, Wire::I32),
]);
const SORTING_COLUMN: Wire = Wire::Struct(&[(1, Wire::I32), (2, Wire::Bool), (3, Wire::Bool)]);
const ROW_GROUP: Wire = Wire::Struct(&[
    (1, Wire::List(&COLUMN_CHUNK)),
    (2, Wire::I64),
    (3, Wire::I64),
    (4, Wire::List(&SORTING_COLUMN)),
    (5, Wire::I64),
    (6, Wire::I64),
    (7, Wire::I16),
]);
/// Type-defined order, or IEEE 754 total order (written for floats by newer writers).
const COLUMN_ORDER: Wire = Wire::Struct(&[(1, EMPTY), (2, EMPTY)]);
pub(super) const FILE_METADATA: Wire = Wire::Struct(&[
    (1, Wire::I32),
    (2, Wire::List(&SCHEMA_ELEMENT)),
    (3, Wire::I64),
    (4, Wire::List(&ROW_GROUP)),
    (5, Wire::List(&KEY_VALUE)),
    (6, Wire::Binary),
    (7, Wire::List(&COLUMN_ORDER)),
]);

/// What [`FooterScan`] keeps of one schema element.
pub(super) struct SchemaShape {
    typed: bool,
    num_children: Option<i64>,
}

/// A reader of the Thrift compact protocol that keeps nothing but the
/// schema's shape and allocates nothing a length field claims: every
/// length is checked against the bytes left, and nesting is capped.
pub(super) struct FooterScan<'a> {
    pub(super) buf: &'a [u8],
    pub(super) pos: usize,
    /// Refuse lists, sets and maps of booleans: no footer has them, and the
    /// Parquet crate's reader (which parses the footer after this scan)
    /// skips their elements without consuming input, so it would loop for
    /// each claimed element and read the bytes after out of step with this
    /// scan.
    pub(super) refuse_bool_lists: bool,
}

/// What a page header says, as far as a position needs it.
pub(super) struct PageHeaderLite {
    pub(super) kind: i64,
    pub(super) uncompressed: i64,
    pub(super) compressed: i64,
    /// Data page v1: values, value encoding, definition and repetition level encodings.
    pub(super) data: Option<(i64, i64, i64, i64)>,
}

const THRIFT_MAX_DEPTH: u32 = 32;

impl FooterScan<'_> {
    pub(super) fn byte(&mut self) -> Result<u8, String> {
        let b = *self.buf.get(self.pos).ok_or("the footer ends early")?;
        self.pos += 1;
        Ok(b)
    }
    pub(super) fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("an overlong varint in the footer".into())
    }
    pub(super) fn zigzag(&mut self) -> Result<i64, String> {
        let v = self.varint()?;
        Ok((v >> 1) as i64 ^ -((v & 1) as i64))
    }
    pub(super) fn skip_bytes(&mut self, n: u64) -> Result<(), String> {
        let left = (self.buf.len() - self.pos) as u64;
        if n > left {
            return Err("a footer field is longer than the footer".into());
        }
        self.pos += n as usize;
        Ok(())
    }
    /// A field header: `None` at the struct's end.
    pub(super) fn field(&mut self, last: &mut i64) -> Result<Option<(i64, u8)>, String> {
        let b = self.byte()?;
        if b == 0 {
            return Ok(None);
        }
        let delta = i64::from(b >> 4);
        *last = if delta == 0 { self.zigzag()? } else { *last + delta };
        Ok(Some((*last, b & 0x0f)))
    }
    /// A list or set header: element type and size (at most one element per byte left).
    pub(super) fn list(&mut self) -> Result<(u8, u64), String> {
        let b = self.byte()?;
        let size = if b >> 4 == 15 { self.varint()? } else { u64::from(b >> 4) };
        if size > (self.buf.len() - self.pos) as u64 {
            return Err("a footer list claims more elements than bytes".into());
        }
        Ok((b & 0x0f, size))
    }
    pub(super) fn skip(&mut self, ty: u8, depth: u32, in_list: bool) -> Result<(), String> {
        if depth > THRIFT_MAX_DEPTH {
            return Err("the footer nests too deeply".into());
        }
        match ty {
            // Booleans: in the field header in a struct, one byte in a list.
            1 | 2 => {
                if in_list {
                    self.byte()?;
                }
                Ok(())
            }
            3 => self.byte().map(drop),
            4..=6 => self.varint().map(drop),
            7 => self.skip_bytes(8),
            8 => {
                let n = self.varint()?;
                self.skip_bytes(n)
            }
            9 | 10 => {
                let (elem, size) = self.list()?;
                if self.refuse_bool_lists && matches!(elem, 1 | 2) {
                    return Err("a list of booleans in the footer".into());
                }
                for _ in 0..size {
                    self.skip(elem, depth + 1, true)?;
                }
                Ok(())
            }
            11 => {
                let size = self.varint()?;
                if size == 0 {
                    return Ok(());
                }
                if size > (self.buf.len() - self.pos) as u64 {
                    return Err("a footer map claims more entries than bytes".into());
                }
                let kinds = self.byte()?;
                if self.refuse_bool_lists && (matches!(kinds >> 4, 1 | 2) || matches!(kinds & 0x0f, 1 | 2)) {
                    return Err("a map of booleans in the footer".into());
                }
                for _ in 0..size {
                    self.skip(kinds >> 4, depth + 1, true)?;
                    self.skip(kinds & 0x0f, depth + 1, true)?;
                }
                Ok(())
            }
            12 => {
                let mut last = 0;
                while let Some((_, t)) = self.field(&mut last)? {
                    self.skip(t, depth + 1, false)?;
                }
                Ok(())
            }
            other => Err(format!("an unknown Thrift type {other} in the footer")),
        }
    }
    /// A value of type `w`: known fields only, each with its wire type.
    pub(super) fn strict(&mut self, w: Wire, depth: u32) -> Result<(), String> {
        if depth > THRIFT_MAX_DEPTH {
            return Err("the footer nests too deeply".into());
        }
        match w {
            Wire::Bool => Ok(()), // in the field header (no lists of booleans here)
            Wire::I16 | Wire::I32 | Wire::I64 => self.varint().map(drop),
            Wire::Binary => {
                let n = self.varint()?;
                self.skip_bytes(n)
            }
            Wire::List(elem) => {
                let (code, size) = self.list()?;
                if size > 0 && (matches!(elem, Wire::Bool) || !elem.code_matches(code)) {
                    return Err("a footer list of the wrong type".into());
                }
                for _ in 0..size {
                    self.strict(*elem, depth + 1)?;
                }
                Ok(())
            }
            Wire::Struct(fields) => {
                let mut last = 0;
                while let Some((id, code)) = self.field(&mut last)? {
                    let Some((_, want)) = fields.iter().find(|(f, _)| *f == id) else {
                        return Err(format!("a footer field ({id}) that positions do not have"));
                    };
                    if !want.code_matches(code) {
                        return Err(format!("a footer field ({id}) of the wrong type"));
                    }
                    self.strict(*want, depth + 1)?;
                }
                Ok(())
            }
        }
    }

    /// FileMetaData field 2: the schema elements' shapes.
    pub(super) fn schema(mut self) -> Result<Vec<SchemaShape>, String> {
        let mut schema = None;
        let mut last = 0;
        while let Some((id, ty)) = self.field(&mut last)? {
            if id != 2 || ty != 9 {
                self.skip(ty, 1, false)?;
                continue;
            }
            if schema.is_some() {
                return Err("the footer has two schemas".into());
            }
            let (elem, size) = self.list()?;
            if elem != 12 {
                return Err("the footer's schema is not a list of elements".into());
            }
            // `size` is at most the bytes left (checked in `list`).
            let mut out = Vec::with_capacity(size as usize);
            for _ in 0..size {
                let mut shape = SchemaShape { typed: false, num_children: None };
                let mut last = 0;
                while let Some((id, ty)) = self.field(&mut last)? {
                    match (id, ty) {
                        (1, 5) => {
                            self.zigzag()?;
                            shape.typed = true;
                        }
                        (5, 5) => shape.num_children = Some(self.zigzag()?),
                        _ => self.skip(ty, 2, false)?,
                    }
                }
                out.push(shape);
            }
            schema = Some(out);
        }
        // The whole footer was scanned: every list and string fits, and no
        // list of booleans is left for the crate's reader to stall on.
        schema.ok_or_else(|| "the footer has no schema".into())
    }

    /// One page header; every field the position needs must have the type
    /// the format gives it, the rest are skipped by this scan.
    pub(super) fn page_header(&mut self) -> Result<PageHeaderLite, String> {
        let mut h = PageHeaderLite { kind: -1, uncompressed: -1, compressed: -1, data: None };
        let mut last = 0;
        while let Some((id, ty)) = self.field(&mut last)? {
            match (id, ty) {
                (1, 5) => h.kind = self.zigzag()?,
                (2, 5) => h.uncompressed = self.zigzag()?,
                (3, 5) => h.compressed = self.zigzag()?,
                (5, 12) => {
                    let mut d = (-1, -1, -1, -1);
                    let mut last = 0;
                    while let Some((id, ty)) = self.field(&mut last)? {
                        match (id, ty) {
                            (1, 5) => d.0 = self.zigzag()?,
                            (2, 5) => d.1 = self.zigzag()?,
                            (3, 5) => d.2 = self.zigzag()?,
                            (4, 5) => d.3 = self.zigzag()?,
                            (1..=4, _) => return Err("a page header field of the wrong type".into()),
                            _ => self.skip(ty, 2, false)?,
                        }
                    }
                    if d.0 < 0 || d.1 < 0 || d.2 < 0 || d.3 < 0 {
                        return Err("a data page header without its required fields".into());
                    }
                    h.data = Some(d);
                }
                (1..=3 | 5, _) => return Err("a page header field of the wrong type".into()),
                _ => self.skip(ty, 1, false)?,
            }
        }
        if h.kind < 0 || h.uncompressed < 0 || h.compressed < 0 {
            return Err("a page header without its required fields".into());
        }
        Ok(h)
    }
}
