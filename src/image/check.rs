//! Is the image one this binary can drive? Its labels name the recipe that
//! built it and the harness protocol it speaks; anything else is refused
//! with "rebuild it", never run.

use std::collections::BTreeMap;

use super::{LABEL_PROTOCOL, LABEL_RECIPE, RECIPE_VERSION};
use crate::engine::{self, Engine};
use crate::error::EngineError;

#[derive(Debug, Clone)]
pub struct ImageInfo {
    pub id: String,
    pub labels: BTreeMap<String, String>,
}

/// The image exists and was built by a recipe this binary speaks to.
pub fn check_image(engine: &Engine, image: &str) -> Result<ImageInfo, EngineError> {
    let record = engine::image_inspect(engine, image)?;
    judge(image, record)
}

/// The labels decide: the current recipe and this binary's harness protocol.
pub fn judge(image: &str, record: engine::ImageRecord) -> Result<ImageInfo, EngineError> {
    let stale = |reason: String| EngineError::ImageStale { image: image.to_string(), reason };
    match record.labels.get(LABEL_RECIPE) {
        None => return Err(stale("it was not built by `finsandbox image build` (no recipe label)".into())),
        Some(v) if v != RECIPE_VERSION => {
            return Err(stale(format!("built from recipe {v}, this finsandbox needs recipe {RECIPE_VERSION}")))
        }
        Some(_) => {}
    }
    if record.labels.get(LABEL_PROTOCOL).map(String::as_str) != Some(crate::harness::PROTOCOL_STR) {
        return Err(stale("its harness protocol label does not match this finsandbox".into()));
    }
    Ok(ImageInfo { id: record.id, labels: record.labels })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_image(image: &str, text: &str) -> Result<ImageInfo, EngineError> {
        judge(image, engine::parse_image_record(image, text)?)
    }

    fn image_json(recipe: &str, protocol: &str) -> String {
        format!(r#"sha256:abc {{"{LABEL_RECIPE}":"{recipe}","{LABEL_PROTOCOL}":"{protocol}"}}"#)
    }

    #[test]
    fn current_image_passes() {
        let info = parse_image("img", &image_json(RECIPE_VERSION, crate::harness::PROTOCOL_STR)).expect("current");
        assert_eq!(info.id, "sha256:abc");
    }

    #[test]
    fn stale_recipe_says_rebuild() {
        let err = parse_image("img", &image_json("0", crate::harness::PROTOCOL_STR)).expect_err("stale");
        assert!(matches!(err, EngineError::ImageStale { .. }));
        assert!(crate::error::Error::from(err).hint().unwrap_or_default().contains("finsandbox image build"));
    }

    #[test]
    fn foreign_image_is_stale() {
        let err = parse_image("img", "x null").expect_err("foreign");
        assert!(err.to_string().contains("not built by"), "{err}");
    }
}
