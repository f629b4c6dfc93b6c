//! A Lamina function that returns its JSON payload unchanged.

use lamina_sdk::{Context, FunctionError};
use serde_json::Value;

fn echo(event: Value, _ctx: &Context) -> Result<Value, FunctionError> {
    Ok(event)
}

lamina_sdk::handler!(echo);
