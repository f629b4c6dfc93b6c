//! How values are turned into the text the journal stores, and back.

use std::rc::Rc;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::durable::{DurableError, ErrorObject};

/// Turns values of type `T` into the text the journal stores and back: a
/// custom format for an operation's result instead of JSON.
///
/// The text is what the execution history shows as the payload. Both
/// directions must agree: a replay reads back what an earlier invocation
/// wrote.
///
/// ```
/// use lamina_sdk::durable::{ErrorObject, Serdes};
///
/// /// Stores strings as `wrapped:<text>`.
/// struct Wrapped;
///
/// impl Serdes<String> for Wrapped {
///     fn serialize(&self, value: &String) -> Result<String, ErrorObject> {
///         Ok(format!("wrapped:{value}"))
///     }
///
///     fn deserialize(&self, text: &str) -> Result<String, ErrorObject> {
///         text.strip_prefix("wrapped:")
///             .map(str::to_owned)
///             .ok_or_else(|| ErrorObject::new("SerdesError", "not wrapped"))
///     }
/// }
/// # assert_eq!(Wrapped.serialize(&"x".to_owned()).unwrap(), "wrapped:x");
/// ```
pub trait Serdes<T> {
    /// The text to journal for `value`.
    fn serialize(&self, value: &T) -> Result<String, ErrorObject>;
    /// The value journaled as `text`.
    fn deserialize(&self, text: &str) -> Result<T, ErrorObject>;
}

/// The default [`Serdes`]: JSON with `serde_json`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonSerdes;

impl<T: Serialize + DeserializeOwned> Serdes<T> for JsonSerdes {
    fn serialize(&self, value: &T) -> Result<String, ErrorObject> {
        serde_json::to_string(value).map_err(ErrorObject::from)
    }

    fn deserialize(&self, text: &str) -> Result<T, ErrorObject> {
        serde_json::from_str(text).map_err(ErrorObject::from)
    }
}

/// A shared, optional custom serdes as configurations hold it.
pub(crate) type SharedSerdes<T> = Option<Rc<dyn Serdes<T>>>;

/// Serializes `value` with `serdes`, or as JSON.
pub(crate) fn to_text<T: Serialize>(
    serdes: Option<&Rc<dyn Serdes<T>>>,
    value: &T,
    what: &str,
) -> Result<String, DurableError> {
    let result = match serdes {
        Some(serdes) => serdes.serialize(value),
        None => serde_json::to_string(value).map_err(ErrorObject::from),
    };
    result.map_err(|err| {
        DurableError::Serialization(format!("{what} could not be serialized: {err}"))
    })
}

/// Deserializes `text` with `serdes`, or from JSON.
pub(crate) fn from_text<T: DeserializeOwned>(
    serdes: Option<&Rc<dyn Serdes<T>>>,
    text: &str,
    what: &str,
) -> Result<T, DurableError> {
    let result = match serdes {
        Some(serdes) => serdes.deserialize(text),
        None => serde_json::from_str(text).map_err(ErrorObject::from),
    };
    result.map_err(|err| DurableError::Serialization(format!("{what} could not be parsed: {err}")))
}
