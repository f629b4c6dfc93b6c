//! Fuzz targets over the API's request parsing: query strings and
//! percent-decoding, timestamps (`StartedAfter` / `StartedBefore`),
//! pagination markers, flags, `MaxItems`, status filters, function names and
//! ARNs, invocation types, execution names and error-object bodies. Each
//! target checks that arbitrary and near-valid input never panics, and that
//! what the host itself emits (markers, timestamps, cursors) parses back to
//! the same value. Run at length with `scripts/fuzz.sh`.

use proptest::collection::vec;
use proptest::prelude::*;

use super::durable::{
    check_execution_name, decode_cursor, encode_cursor, error_object, flag, marker_u64, max_items,
    parse_query, parse_timestamp_ms, query_value,
};
use super::lambda::{InvocationType, function_name, percent_decode};
use crate::durable::shapes;
use crate::fuzz::run;
use crate::journal::{ErrorObject, ExecutionStatus, ListCursor};

/// Default inputs per target in the normal test run (each takes microseconds).
const CASES: u32 = 2000;

/// Text with the characters that matter to the parsers, multi-byte ones
/// included, and anything else now and then.
fn texty() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[-+.:%0-9A-Za-z=&TZ_ €é😀\u{0}]{0,40}",
        1 => any::<String>(),
    ]
}

/// `%XX` for every byte of `bytes`.
fn encode_all(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// Encodes a query key or value: unreserved characters as they are, space
/// as `+` and every other byte as `%XX`.
fn encode_query(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Almost-timestamps: ISO 8601 shapes with odd digit counts, signs,
/// fractions with letters, escapes and multi-byte characters, and numbers
/// in every notation.
fn timestamp_like() -> impl Strategy<Value = String> {
    prop_oneof![
        "[-+]?[0-9]{0,20}-[-+]?[0-9]{0,4}-[0-9]{0,4}T[0-9]{0,4}:[0-9]{0,4}:[0-9]{0,4}(\\.[0-9a-z%€é]{0,8})?(Z|\\+00:00|\\+01:00)?",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[^Z]{0,4}Z",
        "[-+]?[0-9]{0,30}(\\.[0-9]{0,20})?([eE][-+]?[0-9]{1,5})?",
        "(inf|-inf|NaN|infinity|-0|\\+0|0x10|1_000)",
        texty(),
    ]
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's
/// civil_from_days), written independently of the parser under test.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `ms` as ISO 8601 in UTC, with `Z` or `+00:00`.
fn iso(ms: u64, zulu: bool) -> String {
    let ms = ms as i64;
    let (y, m, d) = civil_from_days(ms.div_euclid(86_400_000));
    let in_day = ms.rem_euclid(86_400_000);
    let (h, min, s, frac) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    let zone = if zulu { "Z" } else { "+00:00" };
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{frac:03}{zone}")
}

/// The last millisecond of year 9999.
const MAX_ISO_MS: u64 = 253_402_300_799_999;

#[test]
fn fuzz_timestamps_never_panic() {
    run(
        "api-timestamp-parse",
        CASES,
        timestamp_like(),
        |v: String| {
            let _ = parse_timestamp_ms(&v);
            Ok(())
        },
    );
}

#[test]
fn fuzz_iso_timestamps_round_trip() {
    run(
        "api-timestamp-iso-round-trip",
        CASES,
        (0..=MAX_ISO_MS, any::<bool>()),
        |(ms, zulu)| {
            let text = iso(ms, zulu);
            prop_assert_eq!(parse_timestamp_ms(&text), Some(ms), "{}", text);
            Ok(())
        },
    );
}

#[test]
fn fuzz_emitted_timestamps_round_trip() {
    // The host answers timestamps as epoch seconds (`shapes::timestamp`); a
    // client passes them back as StartedAfter / StartedBefore.
    run(
        "api-timestamp-emitted-round-trip",
        CASES,
        0..=MAX_ISO_MS,
        |ms| {
            let text = shapes::timestamp(ms).to_string();
            prop_assert_eq!(parse_timestamp_ms(&text), Some(ms), "{}", text);
            Ok(())
        },
    );
}

#[test]
fn fuzz_percent_decoding() {
    run(
        "api-percent-decode",
        CASES,
        (vec(any::<u8>(), 0..64), texty()),
        |(bytes, text)| {
            // Arbitrary text: no panic, and text without `%` is unchanged.
            let decoded = percent_decode(&text);
            if !text.contains('%') {
                prop_assert_eq!(&decoded, &text);
            }
            // Every byte escaped: the bytes come back (lossily as UTF-8).
            let expected = String::from_utf8_lossy(&bytes).into_owned();
            prop_assert_eq!(percent_decode(&encode_all(&bytes)), expected);
            Ok(())
        },
    );
}

#[test]
fn fuzz_query_strings() {
    run(
        "api-query-parse",
        CASES,
        (vec((texty(), texty()), 0..8), texty()),
        |(pairs, raw)| {
            let _ = parse_query(&raw);
            let q = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode_query(k), encode_query(v)))
                .collect::<Vec<_>>()
                .join("&");
            prop_assert_eq!(parse_query(&q), pairs.clone(), "{}", q);
            Ok(())
        },
    );
}

#[test]
fn fuzz_query_values() {
    // Flags, MaxItems, Marker and Statuses as the handlers read them.
    run(
        "api-query-values",
        CASES,
        (texty(), "[0-9]{0,25}"),
        |(text, digits)| {
            for v in [&text, &digits] {
                let q = vec![
                    ("ReverseOrder".to_string(), v.clone()),
                    ("MaxItems".to_string(), v.clone()),
                    ("Marker".to_string(), v.clone()),
                ];
                let f = flag(&q, "ReverseOrder");
                prop_assert_eq!(f.is_ok(), v == "true" || v == "false");
                if let Ok(n) = max_items(&q, 7) {
                    prop_assert!((1..=1000).contains(&n));
                    prop_assert_eq!(v.parse::<usize>().ok(), Some(n));
                }
                if let Ok(Some(m)) = marker_u64(&q) {
                    prop_assert_eq!(v.parse::<u64>().ok(), Some(m));
                }
                let _ = decode_cursor(v);
                for s in v.split(',') {
                    if let Ok(status) = s.parse::<ExecutionStatus>() {
                        prop_assert_eq!(status.as_str(), s);
                    }
                }
            }
            let none: Vec<(String, String)> = vec![];
            prop_assert_eq!(flag(&none, "ReverseOrder").ok(), Some(false));
            prop_assert_eq!(max_items(&none, 7).ok(), Some(7));
            prop_assert_eq!(query_value(&none, "Marker"), None);
            Ok(())
        },
    );
}

#[test]
fn fuzz_markers_round_trip() {
    // What the host emits as NextMarker parses back to the same position.
    run(
        "api-marker-round-trip",
        CASES,
        (
            any::<u64>(),
            1usize..=1000,
            any::<String>(),
            any::<u64>(),
            any::<String>(),
        ),
        |(event_id, limit, function, start_ms, arn)| {
            let q = vec![("Marker".to_string(), event_id.to_string())];
            prop_assert_eq!(marker_u64(&q).ok(), Some(Some(event_id)));
            let q = vec![("MaxItems".to_string(), limit.to_string())];
            prop_assert_eq!(max_items(&q, 1).ok(), Some(limit));
            let cursor = ListCursor {
                function,
                start_ms,
                arn,
            };
            let marker = encode_cursor(&cursor);
            prop_assert_eq!(decode_cursor(&marker), Some(cursor));
            // A marker sent back percent-encoded in a query decodes the same.
            let q = parse_query(&format!("Marker={}", encode_query(&marker)));
            prop_assert_eq!(query_value(&q, "Marker"), Some(marker.as_str()));
            Ok(())
        },
    );
}

#[test]
fn fuzz_status_filters_round_trip() {
    run(
        "api-status-filter",
        CASES,
        vec(0..ExecutionStatus::ALL.len(), 0..6),
        |picks| {
            let wanted: Vec<ExecutionStatus> =
                picks.iter().map(|&i| ExecutionStatus::ALL[i]).collect();
            let text = wanted
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(",");
            let q = parse_query(&format!("Statuses={}", encode_query(&text)));
            let value = query_value(&q, "Statuses").unwrap_or_default();
            if !wanted.is_empty() {
                let parsed: Result<Vec<ExecutionStatus>, String> =
                    value.split(',').map(str::parse).collect();
                prop_assert_eq!(parsed, Ok(wanted));
            }
            Ok(())
        },
    );
}

#[test]
fn fuzz_function_names_and_arns() {
    run(
        "api-function-name",
        CASES,
        (
            texty(),
            prop_oneof!["[A-Za-z0-9_-]{1,64}", "[A-Za-z0-9_-]{0,8}function"],
            proptest::option::of("[A-Za-z0-9$_]{1,10}"),
            "[a-z0-9-]{0,14}",
            "[0-9]{0,12}",
        ),
        |(raw, name, qualifier, region, account)| {
            let _ = function_name(&raw);
            let _ = function_name(&percent_decode(&raw));
            let suffix = qualifier.map(|q| format!(":{q}")).unwrap_or_default();
            prop_assert_eq!(function_name(&name), name.clone());
            prop_assert_eq!(function_name(&format!("{name}{suffix}")), name.clone());
            let partial = format!("{account}:function:{name}{suffix}");
            prop_assert_eq!(function_name(&partial), name.clone());
            let arn = format!("arn:aws:lambda:{region}:{account}:function:{name}{suffix}");
            prop_assert_eq!(function_name(&arn), name.clone());
            // As it arrives in a path: percent-encoded.
            prop_assert_eq!(function_name(&percent_decode(&encode_query(&arn))), name);
            Ok(())
        },
    );
}

#[test]
fn fuzz_invocation_types_and_execution_names() {
    run(
        "api-headers",
        CASES,
        (
            proptest::option::of(texty()),
            texty(),
            "[A-Za-z0-9_-]{1,64}",
        ),
        |(header, name, valid)| {
            let parsed = InvocationType::parse(header.as_deref());
            let known = matches!(
                header.as_deref(),
                None | Some("RequestResponse" | "Event" | "DryRun")
            );
            prop_assert_eq!(parsed.is_ok(), known);
            let ok = !name.is_empty()
                && name.len() <= 64
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            prop_assert_eq!(check_execution_name(&name).is_ok(), ok);
            prop_assert!(check_execution_name(&valid).is_ok());
            Ok(())
        },
    );
}

/// Arbitrary error objects (the body of `stop` and callback `fail`).
fn error_objects() -> impl Strategy<Value = ErrorObject> {
    (
        proptest::option::of(any::<String>()),
        proptest::option::of(any::<String>()),
        proptest::option::of(any::<String>()),
        proptest::option::of(vec(any::<String>(), 0..4)),
    )
        .prop_map(
            |(error_type, error_message, error_data, stack_trace)| ErrorObject {
                error_type,
                error_message,
                error_data,
                stack_trace,
            },
        )
}

#[test]
fn fuzz_error_object_bodies() {
    run(
        "api-json-body",
        CASES,
        (
            vec(any::<u8>(), 0..128),
            error_objects(),
            "[\\[\\]{}\":,0-9a-zA-Z \\\\e.+-]{0,64}",
        ),
        |(bytes, error, jsonish)| {
            let _ = error_object(&bytes);
            let _ = error_object(jsonish.as_bytes());
            let body =
                serde_json::to_vec(&error).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(error_object(&body).ok(), Some(Some(error)));
            Ok(())
        },
    );
}

#[test]
fn names_ending_in_function_keep_their_name_with_a_qualifier() {
    // Found by `fuzz_function_names_and_arns`: `my-function:prod` was read
    // as the function `prod`.
    assert_eq!(function_name("my-function:prod"), "my-function");
    assert_eq!(function_name("function:A"), "function");
    assert_eq!(
        function_name("arn:aws:lambda:us-east-1:123:function:my-function:prod"),
        "my-function"
    );
    assert_eq!(function_name("123:function:my-function"), "my-function");
}

#[test]
fn emitted_timestamps_parse_back_to_the_same_millisecond() {
    // Found by `fuzz_emitted_timestamps_round_trip`: 4340478479.563 s was
    // read as 4340478479562 ms.
    for ms in [1001, 4_340_478_479_563] {
        let text = shapes::timestamp(ms).to_string();
        assert_eq!(parse_timestamp_ms(&text), Some(ms), "{text}");
    }
}
