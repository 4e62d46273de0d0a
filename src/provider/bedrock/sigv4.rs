//! AWS Signature Version 4 (header form) for Bedrock Runtime calls, written on the RustCrypto
//! `hmac` and `sha2` crates.
//!
//! Pure: the caller gives the request (method, the URL path as sent, query, headers, payload
//! hash), the credentials, region, service and time; out comes the `Authorization` value.
//! Canonicalisation follows the SigV4 rules for every service but S3: header names lowercased
//! and sorted, values trimmed with inner runs of spaces collapsed, query parameters sorted and
//! URI-encoded, and the path URI-encoded once more (so the `%3A` that Bedrock model ids carry
//! on the wire becomes `%253A` in the canonical request, as botocore signs it).

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::clock::civil_from_days;

/// Long-term or temporary AWS credentials. `Debug` hides everything but the key id's start.
#[derive(Clone)]
pub(crate) struct AwsCredentials {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: String,
    pub(crate) session_token: Option<String>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials").finish_non_exhaustive()
    }
}

/// What the signer computed; `authorization` is the header value to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Signed {
    pub(crate) canonical_request: String,
    pub(crate) string_to_sign: String,
    pub(crate) signed_headers: String,
    pub(crate) signature: String,
    pub(crate) authorization: String,
}

/// The request as it goes on the wire.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Request<'a> {
    pub(crate) method: &'a str,
    /// The path as sent (already percent-encoded), e.g. `/model/x%3A0/converse`.
    pub(crate) path: &'a str,
    /// The query string as sent, without `?` (empty when none).
    pub(crate) query: &'a str,
    /// Every header to sign (`host` and `x-amz-date` included), any case, any order.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    /// Lowercase hex SHA-256 of the body.
    pub(crate) payload_hash: &'a str,
}

/// The signing scope: region, service and time (`YYYYMMDDTHHMMSSZ`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    pub(crate) region: &'a str,
    pub(crate) service: &'a str,
    pub(crate) amz_date: &'a str,
}

/// Lowercase hex SHA-256 of `data`.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail; an empty tag would only make the
    // signature wrong, never panic.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// SigV4's URI encoding: unreserved characters (`A-Z a-z 0-9 - _ . ~`) stay, everything else
/// becomes `%XX` (uppercase hex); `/` stays when `keep_slash`.
pub(crate) fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex_val(b[i + 1]), hex_val(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The canonical query string: parameters decoded, re-encoded, sorted by name then value.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(n), false),
                uri_encode(&percent_decode(v), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Trims a header value and collapses inner runs of spaces to one.
fn canonical_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for word in v.split_ascii_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Signs `req` for `scope` with `creds`.
pub(crate) fn sign(req: &Request<'_>, scope: &Scope<'_>, creds: &AwsCredentials) -> Signed {
    let mut headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), canonical_value(v)))
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    // Repeated names are joined with commas, in the order given.
    let mut merged: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (n, v) in headers {
        match merged.last_mut() {
            Some((last, joined)) if *last == n => {
                joined.push(',');
                joined.push_str(&v);
            }
            _ => merged.push((n, v)),
        }
    }
    let mut canonical_headers = String::new();
    for (n, v) in &merged {
        canonical_headers.push_str(n);
        canonical_headers.push(':');
        canonical_headers.push_str(v);
        canonical_headers.push('\n');
    }
    let signed_headers = merged
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let path = if req.path.is_empty() { "/" } else { req.path };
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method.to_ascii_uppercase(),
        uri_encode(path, true),
        canonical_query(req.query),
        canonical_headers,
        signed_headers,
        req.payload_hash
    );
    let date = scope.amz_date.get(..8).unwrap_or(scope.amz_date);
    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{credential_scope}\n{}",
        scope.amz_date,
        sha256_hex(canonical_request.as_bytes())
    );
    let k_date = hmac(
        format!("AWS4{}", creds.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac(&k_date, scope.region.as_bytes());
    let k_service = hmac(&k_region, scope.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex(&hmac(&k_signing, string_to_sign.as_bytes()));
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.access_key_id
    );
    Signed {
        canonical_request,
        string_to_sign,
        signed_headers,
        signature,
        authorization,
    }
}

/// `time` as SigV4's `YYYYMMDDTHHMMSSZ` (UTC). Times before 1970 give the epoch.
pub(crate) fn amz_date(time: SystemTime) -> String {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    //! Vectors from AWS's published Signature Version 4 test suite (`aws-sig-v4-test-suite`,
    //! formerly at docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html, also
    //! shipped as `aws4_testsuite.zip`): credentials `AKIDEXAMPLE` /
    //! `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`, region `us-east-1`, service `service`,
    //! time `20150830T123600Z`, host `example.amazonaws.com`. Expected values are the suite's
    //! `.creq`, `.sts` and `.authz` files of the cases `get-vanilla`,
    //! `post-x-www-form-urlencoded` and `post-sts-token/post-sts-header-before`; and the
    //! Bedrock signing vector of openai-python `tests/fixtures/bedrock/v1/sigv4.json` (which
    //! signs `x-amz-content-sha256` and a session token), quoted in wire-formats.md §10.1.
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const DATE: &str = "20150830T123600Z";
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const SUITE_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

    fn creds(token: Option<&str>) -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: SECRET.into(),
            session_token: token.map(str::to_owned),
        }
    }

    const SUITE: Scope<'static> = Scope {
        region: "us-east-1",
        service: "service",
        amz_date: DATE,
    };

    /// Signs a request to `/` of the suite's scope with its credentials (and `token`).
    fn sign_suite(
        method: &str,
        query: &str,
        headers: &[(&str, &str)],
        payload_hash: &str,
        token: Option<&str>,
    ) -> Signed {
        let req = Request {
            method,
            path: "/",
            query,
            headers,
            payload_hash,
        };
        sign(&req, &SUITE, &creds(token))
    }

    #[test]
    fn get_vanilla() {
        let s = sign_suite(
            "GET",
            "",
            &[("Host", "example.amazonaws.com"), ("X-Amz-Date", DATE)],
            EMPTY,
            None,
        );
        assert_eq!(
            s.canonical_request,
            format!(
                "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:{DATE}\n\nhost;x-amz-date\n{EMPTY}"
            )
        );
        assert_eq!(
            s.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
        assert_eq!(
            s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn post_x_www_form_urlencoded() {
        let body = b"Param1=value1";
        let hash = sha256_hex(body);
        assert_eq!(
            hash,
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
        );
        let s = sign_suite(
            "POST",
            "",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Host", "example.amazonaws.com"),
                ("X-Amz-Date", DATE),
            ],
            &hash,
            None,
        );
        assert!(
            s.string_to_sign
                .ends_with("\n42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281")
        );
        assert_eq!(
            s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
        );
    }

    #[test]
    fn post_sts_header_before() {
        let s = sign_suite(
            "POST",
            "",
            &[
                ("Host", "example.amazonaws.com"),
                ("X-Amz-Date", DATE),
                ("X-Amz-Security-Token", SUITE_TOKEN),
            ],
            EMPTY,
            Some(SUITE_TOKEN),
        );
        assert!(
            s.string_to_sign
                .ends_with("\nc237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6")
        );
        assert_eq!(
            s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        );
    }

    #[test]
    fn query_order_and_header_canonicalisation() {
        // Suite case get-vanilla-query-order-key-case: parameters are sorted.
        let s = sign_suite(
            "GET",
            "Param2=value2&Param1=value1",
            &[("Host", "example.amazonaws.com"), ("X-Amz-Date", DATE)],
            EMPTY,
            None,
        );
        assert_eq!(
            s.signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
        // Suite case get-header-value-trim: values trimmed, inner spaces collapsed.
        let s = sign_suite(
            "GET",
            "",
            &[
                ("Host", "example.amazonaws.com"),
                ("My-Header1", " value1"),
                ("My-Header2", "\"a   b   c\""),
                ("X-Amz-Date", DATE),
            ],
            EMPTY,
            None,
        );
        assert_eq!(
            s.signature,
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
        );
    }

    #[test]
    fn bedrock_fixture_vector() {
        // openai-python tests/fixtures/bedrock/v1/sigv4.json (wire-formats.md §10.1).
        let body = br#"{"model":"gpt-4o","input":"hello"}"#;
        let hash = sha256_hex(body);
        assert_eq!(
            hash,
            "50329e51ad520f21b77bad0b01999930ff556cd1bf18434701251ba6c9f877bc"
        );
        let date = amz_date(UNIX_EPOCH + std::time::Duration::from_secs(1_735_787_045));
        assert_eq!(date, "20250102T030405Z");
        let s = sign(
            &Request {
                method: "POST",
                path: "/openai/v1/responses",
                query: "",
                headers: &[
                    ("content-type", "application/json"),
                    ("host", "bedrock-mantle.us-east-1.api.aws"),
                    ("x-amz-content-sha256", &hash),
                    ("x-amz-date", &date),
                    ("x-amz-security-token", "fixture-session-token"),
                ],
                payload_hash: &hash,
            },
            &Scope {
                region: "us-east-1",
                service: "bedrock-mantle",
                amz_date: &date,
            },
            &creds(Some("fixture-session-token")),
        );
        assert_eq!(
            sha256_hex(s.canonical_request.as_bytes()),
            "1b69b17ef7548a7bf16a6ee749acfd44b7793e04216345dddd6cfaf4c01bfde5"
        );
        assert_eq!(
            s.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20250102/us-east-1/bedrock-mantle/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=dc20c8fbe516daf0ccae7e5b7a78fc2936870413a9f1af6e1b2d44b970ce411f"
        );
    }

    #[test]
    fn encoded_paths_are_encoded_again() {
        assert_eq!(
            uri_encode(
                "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",
                true
            ),
            "/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse"
        );
        assert_eq!(uri_encode("a b/c:d~", false), "a%20b%2Fc%3Ad~");
        assert_eq!(canonical_query("b=2&a=%20x&c"), "a=%20x&b=2&c=");
    }

    #[test]
    fn dates() {
        assert_eq!(
            amz_date(UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160)),
            DATE
        );
        assert_eq!(amz_date(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(
            amz_date(UNIX_EPOCH + std::time::Duration::from_secs(1_709_164_800)),
            "20240229T000000Z"
        );
        assert_eq!(
            amz_date(UNIX_EPOCH + std::time::Duration::from_secs(4_102_444_799)),
            "20991231T235959Z"
        );
    }
}
