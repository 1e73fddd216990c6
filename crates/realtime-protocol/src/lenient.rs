//! Reading what OpenAI's schema allows but a plain derive refuses.

use serde::{Deserialize, Deserializer, de::DeserializeOwned};

/// A field that may be `null` (or absent, with `#[serde(default)]`): `null` reads as the
/// default (an empty string).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A part the client can do without: `None` when it is `null` or cannot be read, instead of
/// failing the whole message.
pub(crate) fn optional_part<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let value = serde_json::Value::deserialize(deserializer)?;
    Ok(serde_json::from_value(value).ok())
}
