//! Pre-execution screening of strategy source with tree-sitter: an
//! allow-list first layer that rejects obviously dangerous code in
//! milliseconds and tells an LLM loop exactly what to fix. The container is
//! still the security boundary; screening only saves a container start and
//! gives precise, actionable findings.

mod render;
mod rules;
mod scan;

pub use render::{json, sarif, text, FileReport};
pub use rules::{is_dangerous_attribute, is_dangerous_module, is_private, Finding, HARMLESS_MODULE_ATTRIBUTES};
pub use scan::{screen, Policy};
