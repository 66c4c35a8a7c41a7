//! The in-container harness: its Python source (embedded, sent with every
//! run, never bind-mounted), the request the host writes to its stdin, and the
//! frames it writes back.

mod frames;
mod protocol;
mod tail;

pub use frames::Decoder;
pub use protocol::{
    request, request_for, request_parts, request_parts_unpriced, Parts, Policy, RunContext, Summary, SummaryError,
    SummaryStatus, PROTOCOL_STR, SOURCE,
};
pub use tail::Tail;
