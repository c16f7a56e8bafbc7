//! Identifiers, and the two macros that build the model's small types: `id_type!` for typed
//! ids and `string_enum!` for enums stored and sent as SCREAMING_SNAKE_CASE text.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(
            /// The database key.
            pub i64,
        );
    )*};
}

/// An enum with one stored spelling per variant: `as_str`, `parse`, `ALL` and serde all use
/// the same text, written once.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            /// The stored spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// Parses the stored spelling.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

pub(crate) use string_enum;

id_type!(
    /// Identifies a plan.
    PlanId,
    /// Identifies a section of a plan.
    SectionId,
    /// Identifies a subsection of a section.
    SubsectionId,
    /// Identifies a task (not its number: numbers are per plan).
    TaskId,
    /// Identifies an agency.
    AgencyId,
    /// Identifies a province-level division.
    ProvinceId,
    /// Identifies a progress report.
    ReportId,
    /// Identifies an API token.
    TokenId,
    /// Identifies an entry of the change feed.
    ChangeId,
);

#[cfg(test)]
#[expect(unreachable_pub, reason = "string_enum! declares public enums, as the model's are; this one is a test's")]
mod tests {
    string_enum!(
        /// A test enum.
        pub enum Colour {
            /// Red.
            Red = "RED",
            /// Dark blue.
            DarkBlue = "DARK_BLUE",
        }
    );

    #[test]
    fn string_enums_round_trip_through_text_and_serde() {
        assert_eq!(Colour::ALL, [Colour::Red, Colour::DarkBlue]);
        for c in Colour::ALL {
            assert_eq!(Colour::parse(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).expect("serialise");
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Colour>(&json).expect("deserialise"), c);
        }
        assert_eq!(Colour::parse("dark_blue"), None);
    }
}
