//! The HMAC work of AWS Signature Version 4: the signing key derived from a
//! secret, date, region and service, and the signature of a string to sign
//! (HMAC-SHA256 over `sha2`). The host's verifier (`api::auth`) and the
//! CLI's signer (`cli::sign`) build the canonical request around it.
//!
//! Written here rather than taken from `aws-sigv4`, whose dependency tree
//! (the AWS smithy runtime) was about a tenth of the crates a build of the
//! host compiled; `aws-sigv4` remains the reference the tests compare with.

use sha2::{Digest, Sha256};
use std::time::{SystemTime, UNIX_EPOCH};

const BLOCK: usize = 64;

/// HMAC-SHA256 of `data` under `key` (RFC 2104).
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// The SigV4 signing key of `secret` for the day of `at` (UTC), `region`
/// and `service`.
pub fn signing_key(secret: &str, at: SystemTime, region: &str, service: &str) -> [u8; 32] {
    let (date, _) = amz_date(at);
    let k = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac_sha256(&k, region.as_bytes());
    let k = hmac_sha256(&k, service.as_bytes());
    hmac_sha256(&k, b"aws4_request")
}

/// The signature (lowercase hex) of `string_to_sign` under a signing key.
pub fn signature(key: &[u8], string_to_sign: &[u8]) -> String {
    hex::encode(hmac_sha256(key, string_to_sign))
}

/// `at` (UTC) as SigV4's date (`YYYYMMDD`) and time stamp (`YYYYMMDDTHHMMSSZ`).
pub fn amz_date(at: SystemTime) -> (String, String) {
    let secs = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let date = format!("{year:04}{month:02}{day:02}");
    let stamp = format!(
        "{date}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    (date, stamp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn hmac_matches_rfc_4231() {
        // RFC 4231, test cases 2 and 6 (a key longer than the block).
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn signing_key_and_signature_match_aws_sigv4() {
        for secs in [
            0u64,
            951_782_400,
            1_329_264_000,
            1_767_225_599,
            4_102_444_800,
        ] {
            let at = UNIX_EPOCH + Duration::from_secs(secs);
            for (region, service) in [("us-east-1", "lambda"), ("eu-west-3", "iam")] {
                let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
                let ours = signing_key(secret, at, region, service);
                let theirs = aws_sigv4::sign::v4::generate_signing_key(secret, at, region, service);
                assert_eq!(
                    ours.as_slice(),
                    theirs.as_ref(),
                    "{secs} {region} {service}"
                );
                assert_eq!(
                    signature(&ours, b"AWS4-HMAC-SHA256\nsome string"),
                    aws_sigv4::sign::v4::calculate_signature(
                        theirs.as_ref(),
                        b"AWS4-HMAC-SHA256\nsome string"
                    )
                );
            }
        }
    }

    #[test]
    fn dates_are_utc_days() {
        let at = |s| UNIX_EPOCH + Duration::from_secs(s);
        assert_eq!(amz_date(at(0)).1, "19700101T000000Z");
        assert_eq!(amz_date(at(951_782_400)).0, "20000229");
        assert_eq!(amz_date(at(1_767_225_599)).1, "20251231T235959Z");
        assert_eq!(amz_date(at(4_102_444_800)).0, "21000101");
    }
}
