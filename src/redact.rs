//! What counts as a secret outside [`SecretString`](crate::SecretString), and how it is hidden:
//! one rule for `Debug` output, logs, callback events, JSON-lines records and metrics.
//!
//! A name (header, metadata key, provider setting, query parameter) is credential-like when,
//! lower-cased and with `-`, `_`, `.` and spaces removed, it contains `apikey`, `secret`,
//! `password`, `passwd`, `authorization`, `cookie`, `credential`, `bearer`, `signature`,
//! `accesskey`, `privatekey`, `sessionkey` or `subscriptionkey`; ends with `key`; is `auth` or
//! `sig`; or contains `token` (but not `tokens`, `tokenizer` or `tokencount`, so `max_tokens`
//! stays visible). camelCase and kebab-case forms match the same way (`accessKeyId`,
//! `x-api-key`, `sessionToken`). A string value that starts with `Bearer ` or `Basic ` is a
//! credential whatever its name.

use std::borrow::Cow;
use std::fmt;

/// What a hidden value prints as.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// True for a credential-like name (see the module docs).
pub(crate) fn is_sensitive_name(name: &str) -> bool {
    let mut n = String::with_capacity(name.len());
    n.extend(
        name.chars()
            .filter(|c| !matches!(c, '-' | '_' | '.' | ' '))
            .map(|c| c.to_ascii_lowercase()),
    );
    const PARTS: [&str; 13] = [
        "apikey",
        "secret",
        "password",
        "passwd",
        "authorization",
        "cookie",
        "credential",
        "bearer",
        "signature",
        "accesskey",
        "privatekey",
        "sessionkey",
        "subscriptionkey",
    ];
    PARTS.iter().any(|p| n.contains(p))
        || n.ends_with("key")
        || n == "auth"
        || n == "sig"
        || (n.contains("token")
            && !n.contains("tokens")
            && !n.contains("tokeniz")
            && !n.contains("tokencount"))
}

/// True for a value that is a credential whatever its name (`Bearer …`, `Basic …`).
pub(crate) fn is_credential_value(value: &str) -> bool {
    let b = value.as_bytes();
    b.get(..7)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"bearer "))
        || b.get(..6)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"basic "))
}

/// Replaces credentials inside a JSON value, at any depth: values under credential-like names
/// and credential-looking strings.
pub(crate) fn redact_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                if is_sensitive_name(k) && !val.is_null() {
                    *val = serde_json::Value::String(REDACTED.to_owned());
                } else {
                    redact_json(val);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        serde_json::Value::String(s) if is_credential_value(s) => *s = REDACTED.to_owned(),
        _ => {}
    }
}

/// Query parameters whose values stay visible in a redacted URL.
const PLAIN_QUERY: [&str; 3] = ["api-version", "api_version", "alt"];

/// `url` with the password of its user info and the values of its query parameters hidden
/// (all but `api-version` and `alt`): `https://u:p@h/x?key=abc` → `https://u:[REDACTED]@h/x?key=[REDACTED]`.
pub(crate) fn url(url: &str) -> Cow<'_, str> {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    // User info: `scheme://user:password@host`.
    let rest_at = head.find("://").map_or(0, |i| i + 3);
    let authority_end = head[rest_at..]
        .find('/')
        .map_or(head.len(), |i| rest_at + i);
    let password = head[rest_at..authority_end].rfind('@').and_then(|at| {
        let info = &head[rest_at..rest_at + at];
        info.find(':')
            .map(|c| (rest_at + c + 1, rest_at + at))
            .filter(|(s, e)| s < e)
    });
    let query_secret = query.is_some_and(|q| {
        q.split('&').any(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            !v.is_empty() && !PLAIN_QUERY.contains(&k)
        })
    });
    if password.is_none() && !query_secret {
        return Cow::Borrowed(url);
    }
    let mut out = String::with_capacity(url.len() + 16);
    match password {
        Some((s, e)) => {
            out.push_str(&head[..s]);
            out.push_str(REDACTED);
            out.push_str(&head[e..]);
        }
        None => out.push_str(head),
    }
    if let Some(q) = query {
        out.push('?');
        for (i, kv) in q.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match kv.split_once('=') {
                Some((k, v)) if !v.is_empty() && !PLAIN_QUERY.contains(&k) => {
                    out.push_str(k);
                    out.push('=');
                    out.push_str(REDACTED);
                }
                _ => out.push_str(kv),
            }
        }
    }
    Cow::Owned(out)
}

/// Debug-prints a URL with [`url`]'s redaction.
pub(crate) struct Url<'a>(pub(crate) &'a str);

impl fmt::Debug for Url<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&url(self.0), f)
    }
}

/// Debug-prints an optional URL with [`url`]'s redaction.
pub(crate) struct OptUrl<'a>(pub(crate) Option<&'a str>);

impl fmt::Debug for OptUrl<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.map(Url).fmt(f)
    }
}

/// Debug-prints `(name, value)` pairs, hiding the values of credential-like names and
/// credential-looking values.
pub(crate) struct Pairs<'a>(pub(crate) &'a [(String, String)]);

impl fmt::Debug for Pairs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, v)| {
                let shown = if is_sensitive_name(n) || is_credential_value(v) {
                    REDACTED
                } else {
                    v.as_str()
                };
                (n, shown)
            }))
            .finish()
    }
}

/// Debug-prints a JSON map with [`redact_json`]'s redaction.
pub(crate) struct JsonMap<'a>(pub(crate) &'a serde_json::Map<String, serde_json::Value>);

impl fmt::Debug for JsonMap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = serde_json::Value::Object(self.0.clone());
        redact_json(&mut v);
        match v {
            serde_json::Value::Object(m) => m.fmt(f),
            other => other.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credential_like_names_in_every_spelling() {
        for n in [
            "api_key",
            "API-KEY",
            "x-api-key",
            "apiKey",
            "x-goog-api-key",
            "Authorization",
            "proxy-authorization",
            "access_token",
            "refresh-token",
            "sessionToken",
            "aws_session_token",
            "aws_secret_access_key",
            "accessKeyId",
            "aws_access_key_id",
            "client_secret",
            "Ocp-Apim-Subscription-Key",
            "password",
            "cookie",
            "private_key",
            "token",
            "auth",
            "sig",
            "key",
        ] {
            assert!(is_sensitive_name(n), "{n}");
        }
        for n in [
            "max_tokens",
            "total_tokens",
            "tokenizer",
            "token_count",
            "user",
            "team",
            "model",
            "author",
            "keywords",
            "trace_id",
        ] {
            assert!(!is_sensitive_name(n), "{n}");
        }
    }

    #[test]
    fn urls_hide_passwords_and_query_values() {
        assert_eq!(url("https://a.b/v1"), "https://a.b/v1");
        assert_eq!(
            url("https://a.b/x?key=abc&api-version=2024-10-21"),
            "https://a.b/x?key=[REDACTED]&api-version=2024-10-21"
        );
        assert_eq!(
            url("http://user:pw@host:8080/p?sig=s&flag"),
            "http://user:[REDACTED]@host:8080/p?sig=[REDACTED]&flag"
        );
        assert_eq!(url("http://user@host/p"), "http://user@host/p");
        // Odd input passes through or is hidden, never panics.
        for odd in ["", "?", "@", ":@", "://@:", "é?é=é", "a:b@c?x=", "://a:b@"] {
            let _ = url(odd);
        }
    }

    #[test]
    fn json_and_pairs_hide_credentials() {
        let mut v = json!({"api_key": "sk-1", "nested": {"clientSecret": "s", "list": ["Bearer t"]},
            "user": "u", "max_tokens": 5, "none": {"token": null}});
        redact_json(&mut v);
        assert_eq!(
            v,
            json!({"api_key": REDACTED, "nested": {"clientSecret": REDACTED, "list": [REDACTED]},
            "user": "u", "max_tokens": 5, "none": {"token": null}})
        );
        let pairs = vec![
            ("x-api-key".to_owned(), "k".to_owned()),
            ("x-trace".to_owned(), "Basic abc".to_owned()),
            ("x-team".to_owned(), "blue".to_owned()),
        ];
        let shown = format!("{:?}", Pairs(&pairs));
        assert!(!shown.contains("\"k\"") && !shown.contains("abc") && shown.contains("blue"));
    }
}
