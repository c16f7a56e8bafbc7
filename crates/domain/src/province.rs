//! The provincial-level divisions that report on the plan.

use crate::ids::{ProvinceId, string_enum};

string_enum!(
    /// The kind of a provincial-level division.
    pub enum ProvinceKind {
        /// A province.
        Province = "PROVINCE",
        /// An autonomous region.
        AutonomousRegion = "AUTONOMOUS_REGION",
        /// A municipality directly under the central government.
        Municipality = "MUNICIPALITY",
    }
);

/// A provincial-level division of mainland China.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Province {
    /// Its key.
    pub id: ProvinceId,
    /// GB/T 2260 code, e.g. "110000".
    pub code: String,
    /// English name.
    pub name: String,
    /// Chinese name.
    pub name_zh: String,
    /// Province, autonomous region or municipality.
    pub kind: ProvinceKind,
}
