//! Function names as callers spell them: a plain name, a partial ARN or a
//! full ARN, with or without a qualifier. Used by the API and by chained
//! invokes alike, so it lives below both.

/// Accepts a plain name, a partial ARN (`123:function:name`) or a full ARN,
/// with or without a `:qualifier`.
pub fn function_name(raw: &str) -> String {
    // `function` is matched as a whole ARN field, so that a function whose
    // name ends in `function` keeps its name when a qualifier follows.
    let fields: Vec<&str> = raw.split(':').collect();
    let name = match fields.as_slice() {
        ["arn", _, _, _, _, "function", name, ..] | [_, "function", name, ..] => name,
        [name, ..] => name,
        [] => raw,
    };
    (*name).to_string()
}

/// The qualifier in a function name or ARN (`name:prod`,
/// `arn:aws:lambda:r:a:function:name:3`), if any.
pub fn qualifier_of(raw: &str) -> Option<String> {
    let fields: Vec<&str> = raw.split(':').collect();
    let q = match fields.as_slice() {
        ["arn", _, _, _, _, "function", _, q] | [_, "function", _, q] | [_, q] => *q,
        _ => return None,
    };
    (!q.is_empty()).then(|| q.to_string())
}
