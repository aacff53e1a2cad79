//! The serde form of the unit-only enums config files name by a string.

/// Deserializes a unit-only enum from its name. serde's derive would report
/// a value of the wrong type as "wanted string or table"; this names the
/// allowed values instead.
macro_rules! deserialize_by_name {
    ($ty:ident { $($variant:ident = $name:literal),+ $(,)? }) => {
        impl $ty {
            pub const NAMES: &[&str] = &[$($name),+];
        }

        impl<'de> ::serde::Deserialize<'de> for $ty {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Names;
                impl ::serde::de::Visitor<'_> for Names {
                    type Value = $ty;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        let quoted: Vec<String> =
                            $ty::NAMES.iter().map(|name| format!("\"{name}\"")).collect();
                        write!(f, "one of {}", quoted.join(", "))
                    }
                    fn visit_str<E: ::serde::de::Error>(self, value: &str) -> Result<$ty, E> {
                        match value {
                            $($name => Ok($ty::$variant),)+
                            _ => Err(E::unknown_variant(value, $ty::NAMES)),
                        }
                    }
                }
                deserializer.deserialize_str(Names)
            }
        }
    };
}

pub(crate) use deserialize_by_name;
