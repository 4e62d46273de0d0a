//! `From` conversions for the inputs that are one text or several ([`Stop`](super::Stop),
//! [`Prompt`](super::Prompt), [`EmbeddingInput`](super::EmbeddingInput)), declared once.

/// Implements `From<&str>` and `From<String>` as the variant `$one`, and `From<Vec<String>>`
/// and `From<Vec<&str>>` as the variant `$many`; with `, arrays` also `From<[&str; N]>` as
/// `$many`. (A macro: `From` is a foreign trait, so no one generic impl can cover the types.)
macro_rules! from_text {
    ($ty:ident: $one:ident, $many:ident) => {
        impl From<&str> for $ty {
            fn from(s: &str) -> Self {
                $ty::$one(s.to_string())
            }
        }

        impl From<String> for $ty {
            fn from(s: String) -> Self {
                $ty::$one(s)
            }
        }

        impl From<Vec<String>> for $ty {
            fn from(v: Vec<String>) -> Self {
                $ty::$many(v)
            }
        }

        impl From<Vec<&str>> for $ty {
            fn from(v: Vec<&str>) -> Self {
                $ty::$many(v.into_iter().map(String::from).collect())
            }
        }
    };
    ($ty:ident: $one:ident, $many:ident, arrays) => {
        from_text!($ty: $one, $many);

        impl<const N: usize> From<[&str; N]> for $ty {
            fn from(v: [&str; N]) -> Self {
                $ty::$many(v.iter().map(|s| s.to_string()).collect())
            }
        }
    };
}

pub(crate) use from_text;
