//! Writing small position files the way the harness does, for tests.
use std::sync::Arc;

use parquet::data_type::{BoolType, DoubleType, Int32Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

pub enum Col<'a> {
    F(&'a str, Vec<Option<f64>>),
    B(&'a str, Vec<bool>),
}

pub fn write(dates: &[i32], cols: &[Col]) -> Vec<u8> {
    let mut schema = String::from("message position { required int32 date (DATE);");
    for c in cols {
        match c {
            Col::F(n, _) => schema.push_str(&format!(" optional double {n};")),
            Col::B(n, _) => schema.push_str(&format!(" required boolean {n};")),
        }
    }
    schema.push('}');
    let schema = Arc::new(parse_message_type(&schema).expect("schema"));
    let mut buf = Vec::new();
    let mut w = SerializedFileWriter::new(
        &mut buf,
        schema,
        Arc::new(WriterProperties::builder().set_dictionary_enabled(false).build()),
    )
    .expect("writer");
    let mut rg = w.next_row_group().expect("rg");
    let mut i = 0;
    while let Some(mut col) = rg.next_column().expect("col") {
        if i == 0 {
            col.typed::<Int32Type>().write_batch(dates, None, None).expect("dates");
        } else {
            match &cols[i - 1] {
                Col::F(_, v) => {
                    let defs: Vec<i16> = v.iter().map(|x| i16::from(x.is_some())).collect();
                    let vals: Vec<f64> = v.iter().flatten().copied().collect();
                    col.typed::<DoubleType>().write_batch(&vals, Some(&defs), None).expect("values");
                }
                Col::B(_, v) => {
                    col.typed::<BoolType>().write_batch(v, None, None).expect("values");
                }
            }
        }
        col.close().expect("close col");
        i += 1;
    }
    rg.close().expect("close rg");
    w.close().expect("close");
    buf
}
